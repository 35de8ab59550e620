import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for the AWS APIs the operator commands use, speaking their wire protocols so the real
 * SDK clients talk to it (no offline Secrets Manager, CloudFormation, API Gateway or SNS exists):
 * CloudFormation DescribeStacks and SNS ListSubscriptionsByTopic (query protocol, XML), Secrets Manager
 * Get/PutSecretValue (JSON 1.1) and API Gateway's API keys and usage plan keys (REST JSON: GetApiKey(s),
 * CreateApiKey, UpdateApiKey's /enabled, DeleteApiKey, Create/GetUsagePlanKeys), as API Gateway's reference
 * documents them; Secrets Manager's UpdateSecretVersionStage; SQS SendMessageBatch and ChangeMessageVisibility
 * (JSON 1.0). Point a client at it with `endpoint`, or a child process with AWS_ENDPOINT_URL; an SQS client
 * follows its QueueUrl there.
 *
 * Secrets keep versions and staging labels as Secrets Manager documents them (API reference,
 * PutSecretValue and UpdateSecretVersionStage): a version's id is its ClientRequestToken, and repeating a
 * token with the same value changes nothing, with another value is ResourceExistsException; PutSecretValue
 * attaches VersionStages (AWSCURRENT when none are given) and takes each label off the version that held
 * it; whenever AWSCURRENT moves, AWSPREVIOUS goes to the version it left; moving a label another version
 * holds needs RemoveFromVersionId naming that version, else InvalidParameterException.
 *
 * SQS as its API reference documents SendMessageBatch and ChangeMessageVisibility: 1 to 10 entries with
 * distinct ids of letters, digits, - and _ (else the whole request is refused); the answer is 200 with
 * Successful and Failed entries (each failure with Code and SenderFault); MessageGroupId kept per message
 * (fair queues); a visibility of 0 to 43,200 s set on a received message by its receipt handle.
 */
export interface AwsStandIn {
  url: string;
  /** Stack name → outputs. */
  stacks: Map<string, Record<string, string>>;
  /** Secret id → its AWSCURRENT string; `set` puts a new current version, as a change by hand would. */
  secrets: SecretVersions;
  /** API key id → value. */
  apiKeys: Map<string, string>;
  /** API key id → its name and whether it is enabled (absent: a key made with `apiKeys` alone, enabled). */
  apiKeyState: Map<string, { name: string; enabled: boolean }>;
  /** Usage plan id → the ids of its keys. */
  usagePlans: Map<string, Set<string>>;
  /** Every API Gateway request, as `METHOD /path` (query left out). */
  apiGatewayCalls: string[];
  /** Every secret string made current, in order. */
  writes: string[];
  sqs: SqsStandIn;
  /** SNS topic ARN → its subscriptions (SubscriptionArn `PendingConfirmation` until confirmed). */
  topics: Map<string, Array<{ SubscriptionArn: string; Protocol: string; Endpoint: string }>>;
  /** Every request's action or target, in order (what the operator commands asked). */
  calls: string[];
  close(): Promise<void>;
}

export interface SqsMessage {
  messageId: string;
  body: string;
  groupId: string | undefined;
  receiptHandle: string | undefined;
  /** The visibility last set on it, seconds (ChangeMessageVisibility). */
  visibility: number | undefined;
}

export interface SqsStandIn {
  /** Queue URL path (`/123456789012/name`) → its messages, oldest first. */
  queues: Map<string, SqsMessage[]>;
  /** Decides each entry's fate: undefined stores it; else SQS fails it with this code and fault side. */
  failEntry: (entry: {
    Id: string;
    MessageBody: string;
  }) => { code: string; senderFault: boolean } | undefined;
  /** Every SendMessageBatch request's entry ids, in order. */
  batches: string[][];
  /** Receives the oldest message not yet received: its receipt handle. */
  receive(queuePath: string): SqsMessage | undefined;
}

interface Version {
  value: string;
  stages: Set<string>;
}

class InvalidRequest extends Error {
  readonly type: string;
  constructor(type: string, message: string) {
    super(message);
    this.type = type;
  }
}

export class SecretVersions {
  readonly #secrets = new Map<string, Map<string, Version>>();
  readonly #onCurrent: (value: string) => void;
  constructor(onCurrent: (value: string) => void) {
    this.#onCurrent = onCurrent;
  }

  /** The staging labels on one version. */
  stagesOf(id: string, versionId: string): string[] {
    return [...(this.#secrets.get(id)?.get(versionId)?.stages ?? [])];
  }

  get(id: string): string | undefined {
    const versions = this.#secrets.get(id);
    return versions && this.#holder(versions, 'AWSCURRENT')?.[1].value;
  }

  set(id: string, value: string): void {
    this.put(id, value, randomUUID(), ['AWSCURRENT']);
  }

  has(id: string) {
    return this.#secrets.has(id);
  }

  /** The version holding `stage`, as [version id, version]. */
  current(id: string, stage = 'AWSCURRENT') {
    const versions = this.#secrets.get(id);
    return versions && this.#holder(versions, stage);
  }

  put(id: string, value: string, token: string, stages: string[]) {
    const versions = this.#secrets.get(id) ?? new Map<string, Version>();
    this.#secrets.set(id, versions);
    const existing = versions.get(token);
    if (existing) {
      if (existing.value !== value)
        throw new InvalidRequest(
          'ResourceExistsException',
          'You can’t modify an existing version, you can only create a new version.',
        );
      return token;
    }
    versions.set(token, { value, stages: new Set() });
    for (const stage of stages) this.#attach(versions, stage, token);
    return token;
  }

  updateStage(id: string, stage: string, moveTo: string | undefined, removeFrom: string | undefined) {
    const versions = this.#secrets.get(id);
    if (!versions)
      throw new InvalidRequest(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    if (moveTo !== undefined && !versions.has(moveTo))
      throw new InvalidRequest(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret version.",
      );
    const holder = this.#holder(versions, stage)?.[0];
    if (moveTo === undefined) {
      if (removeFrom === undefined || holder !== removeFrom)
        throw new InvalidRequest(
          'InvalidParameterException',
          `Staging label ${stage} is not attached to version ${removeFrom}.`,
        );
      versions.get(removeFrom)?.stages.delete(stage);
      return;
    }
    if (holder !== undefined && holder !== moveTo) {
      if (removeFrom === undefined)
        throw new InvalidRequest(
          'InvalidParameterException',
          `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      if (removeFrom !== holder)
        throw new InvalidRequest(
          'InvalidParameterException',
          `When you move staging label ${stage}, if you specify RemoveFromVersionId, it must be set to the version that currently has the staging label ${stage}.`,
        );
    }
    this.#attach(versions, stage, moveTo);
  }

  #holder(versions: Map<string, Version>, stage: string) {
    return [...versions.entries()].find(([, version]) => version.stages.has(stage));
  }

  #attach(versions: Map<string, Version>, stage: string, to: string) {
    const from = this.#holder(versions, stage);
    if (from?.[0] === to) return;
    from?.[1].stages.delete(stage);
    const version = versions.get(to) as Version;
    version.stages.add(stage);
    if (stage !== 'AWSCURRENT') return;
    if (from) this.#attach(versions, 'AWSPREVIOUS', from[0]);
    this.#onCurrent(version.value);
  }
}

export async function awsStandIn(): Promise<AwsStandIn> {
  const stacks = new Map<string, Record<string, string>>();
  const apiKeys = new Map<string, string>();
  const apiKeyState = new Map<string, { name: string; enabled: boolean }>();
  const usagePlans = new Map<string, Set<string>>();
  const apiGatewayCalls: string[] = [];
  let nextKey = 0;
  const writes: string[] = [];
  const secrets = new SecretVersions((value) => writes.push(value));
  const sqs: SqsStandIn = {
    queues: new Map(),
    failEntry: () => undefined,
    batches: [],
    receive(queuePath) {
      const message = sqs.queues.get(queuePath)?.find((each) => each.receiptHandle === undefined);
      if (message) message.receiptHandle = randomUUID();
      return message;
    },
  };
  const topics = new Map<string, Array<{ SubscriptionArn: string; Protocol: string; Endpoint: string }>>();
  const calls: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const target = String(req.headers['x-amz-target'] ?? '');
      const send = (status: number, type: string, text: string) => {
        res.writeHead(status, { 'Content-Type': type });
        res.end(text);
      };
      const json = (status: number, value: unknown) =>
        send(status, 'application/x-amz-json-1.1', JSON.stringify(value));
      if (target.startsWith('secretsmanager.')) {
        calls.push(target);
        const input = JSON.parse(body) as {
          SecretId: string;
          SecretString?: string;
          ClientRequestToken?: string;
          VersionStages?: string[];
          VersionStage?: string;
          MoveToVersionId?: string;
          RemoveFromVersionId?: string;
        };
        if (!secrets.has(input.SecretId)) {
          return json(400, {
            __type: 'ResourceNotFoundException',
            message: "Secrets Manager can't find the specified secret.",
          });
        }
        try {
          if (target === 'secretsmanager.GetSecretValue') {
            const [versionId, version] = secrets.current(input.SecretId, input.VersionStage) ?? [];
            if (!version)
              throw new InvalidRequest('ResourceNotFoundException', 'No version with that label.');
            return json(200, {
              ARN: input.SecretId,
              Name: 'keyring',
              SecretString: version.value,
              VersionId: versionId,
              VersionStages: [...version.stages],
            });
          }
          if (target === 'secretsmanager.PutSecretValue' && input.SecretString !== undefined) {
            // The SDK fills ClientRequestToken in when the caller does not (an idempotency token).
            const versionId = secrets.put(
              input.SecretId,
              input.SecretString,
              input.ClientRequestToken ?? randomUUID(),
              input.VersionStages?.length ? input.VersionStages : ['AWSCURRENT'],
            );
            return json(200, {
              ARN: input.SecretId,
              Name: 'keyring',
              VersionId: versionId,
              VersionStages: secrets.stagesOf(input.SecretId, versionId),
            });
          }
          if (target === 'secretsmanager.UpdateSecretVersionStage' && input.VersionStage) {
            secrets.updateStage(
              input.SecretId,
              input.VersionStage,
              input.MoveToVersionId,
              input.RemoveFromVersionId,
            );
            return json(200, { ARN: input.SecretId, Name: 'keyring' });
          }
        } catch (error) {
          if (error instanceof InvalidRequest)
            return json(400, { __type: error.type, message: error.message });
          throw error;
        }
        return json(400, { __type: 'InvalidRequestException', message: `unsupported ${target}` });
      }
      if (target.startsWith('AmazonSQS.')) return sqsRequest(sqs, target, body, send);
      const url = new URL(req.url ?? '/', 'http://stand-in');
      if (url.pathname.startsWith('/apikeys') || url.pathname.startsWith('/usageplans/')) {
        apiGatewayCalls.push(`${req.method} ${url.pathname}`);
        const reply = apiGateway(req.method ?? 'GET', url, body);
        const errorType = ERROR_TYPES[reply.status];
        if (errorType) res.setHeader('x-amzn-ErrorType', errorType);
        return send(reply.status, 'application/json', JSON.stringify(reply.body));
      }
      const form = new URLSearchParams(body);
      calls.push(target || form.get('Action') || `${req.method} ${req.url}`);
      if (form.get('Action') === 'ListSubscriptionsByTopic') {
        const topicArn = form.get('TopicArn') ?? '';
        const subscriptions = topics.get(topicArn);
        if (!subscriptions) {
          return send(
            404,
            'text/xml',
            `<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
          );
        }
        const members = subscriptions
          .map(
            (s) =>
              `<member><TopicArn>${escapeXml(topicArn)}</TopicArn><Protocol>${s.Protocol}</Protocol><SubscriptionArn>${escapeXml(s.SubscriptionArn)}</SubscriptionArn><Owner>123456789012</Owner><Endpoint>${escapeXml(s.Endpoint)}</Endpoint></member>`,
          )
          .join('');
        return send(
          200,
          'text/xml',
          `<ListSubscriptionsByTopicResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ListSubscriptionsByTopicResult><Subscriptions>${members}</Subscriptions></ListSubscriptionsByTopicResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListSubscriptionsByTopicResponse>`,
        );
      }
      if (form.get('Action') === 'DescribeStacks') {
        const name = form.get('StackName') ?? '';
        const outputs = stacks.get(name);
        if (!outputs) {
          return send(
            400,
            'text/xml',
            `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${name} does not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
          );
        }
        const members = Object.entries(outputs)
          .map(
            ([key, value]) =>
              `<member><OutputKey>${key}</OutputKey><OutputValue>${escapeXml(value)}</OutputValue></member>`,
          )
          .join('');
        return send(
          200,
          'text/xml',
          `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${name}</StackName><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/${name}/1</StackId><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-01-01T00:00:00Z</CreationTime><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStacksResponse>`,
        );
      }
      send(400, 'text/plain', 'unsupported request');
    });
  });
  /** API Gateway's key operations; errors as it sends them (`message`, the type in a header the SDK reads too). */
  function apiGateway(method: string, url: URL, body: string): { status: number; body: unknown } {
    const notFound = { status: 404, body: { message: 'Invalid API Key identifier specified' } };
    const view = (id: string, withValue: boolean) => ({
      id,
      name: apiKeyState.get(id)?.name ?? 'default',
      enabled: apiKeyState.get(id)?.enabled ?? true,
      ...(withValue && { value: apiKeys.get(id) }),
      createdDate: 1_764_000_000,
      lastUpdatedDate: 1_764_000_000,
      stageKeys: [],
    });
    const key = /^\/apikeys\/([^/]+)$/.exec(url.pathname);
    const planKeys = /^\/usageplans\/([^/]+)\/keys$/.exec(url.pathname);
    if (url.pathname === '/apikeys' && method === 'POST') {
      const input = JSON.parse(body || '{}') as { name?: string; value?: string; enabled?: boolean };
      if (input.value !== undefined && !/^[A-Za-z0-9]{20,128}$/.test(input.value))
        return { status: 400, body: { message: 'API Key value should be at least 20 characters' } };
      if (input.value !== undefined && [...apiKeys.values()].includes(input.value))
        return { status: 409, body: { message: 'API Key already exists' } };
      const id = `sk${String(++nextKey).padStart(8, '0')}`;
      apiKeys.set(id, input.value ?? `AwsGenerated${randomBytes(20).toString('hex').slice(0, 28)}`);
      apiKeyState.set(id, { name: input.name ?? '', enabled: input.enabled === true });
      return { status: 201, body: view(id, true) };
    }
    if (url.pathname === '/apikeys' && method === 'GET') {
      const values = url.searchParams.get('includeValues') === 'true';
      // The wire name of a page of items is `item` (the SDK reads it as `items`).
      return { status: 200, body: { item: [...apiKeys.keys()].map((id) => view(id, values)) } };
    }
    if (key && method === 'GET') {
      const id = decodeURIComponent(key[1] ?? '');
      return apiKeys.has(id)
        ? { status: 200, body: view(id, url.searchParams.get('includeValue') === 'true') }
        : notFound;
    }
    if (key && method === 'PATCH') {
      const id = decodeURIComponent(key[1] ?? '');
      if (!apiKeys.has(id)) return notFound;
      const { patchOperations = [] } = JSON.parse(body || '{}') as {
        patchOperations?: Array<{ op: string; path: string; value?: string }>;
      };
      for (const operation of patchOperations) {
        if (operation.op !== 'replace' || operation.path !== '/enabled')
          return { status: 400, body: { message: `Invalid patch path ${operation.path}` } };
        apiKeyState.set(id, {
          name: apiKeyState.get(id)?.name ?? 'default',
          enabled: operation.value === 'true',
        });
      }
      return { status: 200, body: view(id, false) };
    }
    if (key && method === 'DELETE') {
      const id = decodeURIComponent(key[1] ?? '');
      if (!apiKeys.delete(id)) return notFound;
      apiKeyState.delete(id);
      // Deleting a key takes it off every usage plan.
      for (const keys of usagePlans.values()) keys.delete(id);
      return { status: 202, body: {} };
    }
    if (planKeys) {
      const plan = usagePlans.get(decodeURIComponent(planKeys[1] ?? ''));
      if (!plan) return { status: 404, body: { message: 'Invalid Usage Plan ID specified' } };
      if (method === 'POST') {
        const { keyId = '', keyType } = JSON.parse(body || '{}') as { keyId?: string; keyType?: string };
        if (keyType !== 'API_KEY' || !apiKeys.has(keyId)) return notFound;
        if (plan.has(keyId)) return { status: 409, body: { message: 'Usage Plan Key already exists' } };
        plan.add(keyId);
        return {
          status: 201,
          body: { id: keyId, type: 'API_KEY', name: view(keyId, false).name, value: apiKeys.get(keyId) },
        };
      }
      if (method === 'GET') {
        return {
          status: 200,
          body: {
            item: [...plan].map((id) => ({
              id,
              type: 'API_KEY',
              name: view(id, false).name,
              value: apiKeys.get(id),
            })),
          },
        };
      }
    }
    return { status: 400, body: { message: `unsupported ${method} ${url.pathname}` } };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stacks,
    secrets,
    apiKeys,
    apiKeyState,
    usagePlans,
    apiGatewayCalls,
    writes,
    topics,
    calls,
    sqs,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** API Gateway's error types by status, as its responses name them. */
const ERROR_TYPES: Record<number, string> = {
  400: 'BadRequestException',
  404: 'NotFoundException',
  409: 'ConflictException',
};

const escapeXml = (value: string) =>
  value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** SDK client options for the stand-in: its endpoint and throwaway credentials. */
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
const GROUP_ID = /^[\x21-\x7e]{1,128}$/;

function sqsRequest(
  sqs: SqsStandIn,
  target: string,
  body: string,
  send: (status: number, type: string, text: string) => void,
) {
  const json = (status: number, value: unknown) =>
    send(status, 'application/x-amz-json-1.0', JSON.stringify(value));
  const error = (type: string, message: string) =>
    json(400, { __type: `com.amazonaws.sqs#${type}`, message });
  const input = JSON.parse(body) as {
    QueueUrl?: string;
    Entries?: Array<{ Id: string; MessageBody: string; MessageGroupId?: string }>;
    ReceiptHandle?: string;
    VisibilityTimeout?: number;
  };
  const queuePath = new URL(input.QueueUrl ?? '', 'http://x').pathname;
  const messages = sqs.queues.get(queuePath);
  if (!messages) return error('QueueDoesNotExist', 'The specified queue does not exist.');
  if (target === 'AmazonSQS.SendMessageBatch') {
    const entries = input.Entries ?? [];
    if (entries.length === 0) return error('EmptyBatchRequest', 'There should be at least one entry.');
    if (entries.length > 10) return error('TooManyEntriesInBatchRequest', 'Maximum number of entries is 10.');
    if (new Set(entries.map((entry) => entry.Id)).size !== entries.length)
      return error('BatchEntryIdsNotDistinct', 'Two or more batch entries have the same Id.');
    if (!entries.every((entry) => BATCH_ENTRY_ID.test(entry.Id)))
      return error(
        'InvalidBatchEntryId',
        'A batch entry id can only contain alphanumeric characters, hyphens and underscores.',
      );
    sqs.batches.push(entries.map((entry) => entry.Id));
    const successful: unknown[] = [];
    const failed: unknown[] = [];
    for (const entry of entries) {
      if (entry.MessageGroupId !== undefined && !GROUP_ID.test(entry.MessageGroupId)) {
        failed.push({
          Id: entry.Id,
          SenderFault: true,
          Code: 'InvalidParameterValue',
          Message: 'MessageGroupId',
        });
        continue;
      }
      const fate = sqs.failEntry(entry);
      if (fate) {
        failed.push({ Id: entry.Id, SenderFault: fate.senderFault, Code: fate.code, Message: fate.code });
        continue;
      }
      const messageId = randomUUID();
      messages.push({
        messageId,
        body: entry.MessageBody,
        groupId: entry.MessageGroupId,
        receiptHandle: undefined,
        visibility: undefined,
      });
      successful.push({
        Id: entry.Id,
        MessageId: messageId,
        MD5OfMessageBody: createHash('md5').update(entry.MessageBody).digest('hex'),
      });
    }
    return json(200, { Successful: successful, Failed: failed });
  }
  if (target === 'AmazonSQS.ChangeMessageVisibility') {
    const seconds = input.VisibilityTimeout ?? -1;
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 43_200)
      return error('InvalidParameterValue', 'VisibilityTimeout must be between 0 and 43200 seconds.');
    const message = messages.find((each) => each.receiptHandle === input.ReceiptHandle);
    if (!message) return error('ReceiptHandleIsInvalid', 'The input receipt handle is invalid.');
    message.visibility = seconds;
    return json(200, {});
  }
  return error('UnsupportedOperation', `unsupported ${target}`);
}

/** SDK client options for the stand-in: its endpoint and throwaway credentials. */
export const standInClientConfig = (standIn: Pick<AwsStandIn, 'url'>) => ({
  endpoint: standIn.url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'stand-in', secretAccessKey: 'stand-in' },
});
