import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for the AWS APIs the operator commands use, speaking their wire protocols so the real
 * SDK clients talk to it (no offline Secrets Manager, CloudFormation, API Gateway or SNS exists):
 * CloudFormation DescribeStacks and SNS ListSubscriptionsByTopic (query protocol, XML), Secrets Manager
 * Get/PutSecretValue (JSON 1.1) and API Gateway's API keys and usage plan keys (REST JSON: GetApiKey(s),
 * CreateApiKey, UpdateApiKey's /enabled, DeleteApiKey, Create/GetUsagePlanKeys), as API Gateway's reference
 * documents them. Point a client at it with `endpoint`, or a child process with AWS_ENDPOINT_URL.
 */
export interface AwsStandIn {
  url: string;
  /** Stack name → outputs. */
  stacks: Map<string, Record<string, string>>;
  /** Secret id → its current string. */
  secrets: Map<string, string>;
  /** API key id → value. */
  apiKeys: Map<string, string>;
  /** API key id → its name and whether it is enabled (absent: a key made with `apiKeys` alone, enabled). */
  apiKeyState: Map<string, { name: string; enabled: boolean }>;
  /** Usage plan id → the ids of its keys. */
  usagePlans: Map<string, Set<string>>;
  /** Every API Gateway request, as `METHOD /path` (query left out). */
  apiGatewayCalls: string[];
  /** Every secret string written, in order. */
  writes: string[];
  /** SNS topic ARN → its subscriptions (SubscriptionArn `PendingConfirmation` until confirmed). */
  topics: Map<string, Array<{ SubscriptionArn: string; Protocol: string; Endpoint: string }>>;
  /** Every request's action or target, in order (what the operator commands asked). */
  calls: string[];
  close(): Promise<void>;
}

export async function awsStandIn(): Promise<AwsStandIn> {
  const stacks = new Map<string, Record<string, string>>();
  const secrets = new Map<string, string>();
  const apiKeys = new Map<string, string>();
  const apiKeyState = new Map<string, { name: string; enabled: boolean }>();
  const usagePlans = new Map<string, Set<string>>();
  const apiGatewayCalls: string[] = [];
  let nextKey = 0;
  const writes: string[] = [];
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
        const input = JSON.parse(body) as { SecretId: string; SecretString?: string };
        const current = secrets.get(input.SecretId);
        if (current === undefined) {
          return json(400, {
            __type: 'ResourceNotFoundException',
            message: "Secrets Manager can't find the specified secret.",
          });
        }
        if (target === 'secretsmanager.GetSecretValue') {
          return json(200, {
            ARN: input.SecretId,
            Name: 'keyring',
            SecretString: current,
            VersionId: `v${writes.length}`,
          });
        }
        if (target === 'secretsmanager.PutSecretValue' && input.SecretString !== undefined) {
          secrets.set(input.SecretId, input.SecretString);
          writes.push(input.SecretString);
          return json(200, { ARN: input.SecretId, Name: 'keyring', VersionId: `v${writes.length}` });
        }
        return json(400, { __type: 'InvalidRequestException', message: `unsupported ${target}` });
      }
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
export const standInClientConfig = (standIn: Pick<AwsStandIn, 'url'>) => ({
  endpoint: standIn.url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'stand-in', secretAccessKey: 'stand-in' },
});
