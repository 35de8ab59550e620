import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for the AWS APIs the operator commands use, speaking their wire protocols so the real
 * SDK clients talk to it (no offline Secrets Manager, CloudFormation or API Gateway exists): CloudFormation
 * DescribeStacks (query protocol, XML), Secrets Manager GetSecretValue, PutSecretValue and
 * UpdateSecretVersionStage (JSON 1.1) and API Gateway GetApiKey (REST JSON). Point a client at it with
 * `endpoint`, or a child process with AWS_ENDPOINT_URL.
 *
 * Secrets keep versions and staging labels as Secrets Manager documents them (API reference,
 * PutSecretValue and UpdateSecretVersionStage): a version's id is its ClientRequestToken, and repeating a
 * token with the same value changes nothing, with another value is ResourceExistsException; PutSecretValue
 * attaches VersionStages (AWSCURRENT when none are given) and takes each label off the version that held
 * it; whenever AWSCURRENT moves, AWSPREVIOUS goes to the version it left; moving a label another version
 * holds needs RemoveFromVersionId naming that version, else InvalidParameterException.
 */
export interface AwsStandIn {
  url: string;
  /** Stack name → outputs. */
  stacks: Map<string, Record<string, string>>;
  /** Secret id → its AWSCURRENT string; `set` puts a new current version, as a change by hand would. */
  secrets: SecretVersions;
  /** API key id → value. */
  apiKeys: Map<string, string>;
  /** Every secret string made current, in order. */
  writes: string[];
  close(): Promise<void>;
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
  const writes: string[] = [];
  const secrets = new SecretVersions((value) => writes.push(value));
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
      const apiKey = /^\/apikeys\/([^/?]+)/.exec(req.url ?? '');
      if (req.method === 'GET' && apiKey) {
        const value = apiKeys.get(decodeURIComponent(apiKey[1] ?? ''));
        if (value === undefined)
          return send(
            404,
            'application/json',
            JSON.stringify({ message: 'Invalid API Key identifier specified' }),
          );
        return send(
          200,
          'application/json',
          JSON.stringify({ id: apiKey[1], value, enabled: true, name: 'default' }),
        );
      }
      const form = new URLSearchParams(body);
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stacks,
    secrets,
    apiKeys,
    writes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const escapeXml = (value: string) =>
  value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** SDK client options for the stand-in: its endpoint and throwaway credentials. */
export const standInClientConfig = (standIn: Pick<AwsStandIn, 'url'>) => ({
  endpoint: standIn.url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'stand-in', secretAccessKey: 'stand-in' },
});
