import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for the AWS APIs the operator commands use, speaking their wire protocols so the real
 * SDK clients talk to it (no offline Secrets Manager, CloudFormation, API Gateway or SNS exists):
 * CloudFormation DescribeStacks and SNS ListSubscriptionsByTopic (query protocol, XML), Secrets Manager
 * Get/PutSecretValue (JSON 1.1) and API Gateway GetApiKey (REST JSON). Point a client at it with `endpoint`, or a child process with
 * AWS_ENDPOINT_URL.
 */
export interface AwsStandIn {
  url: string;
  /** Stack name → outputs. */
  stacks: Map<string, Record<string, string>>;
  /** Secret id → its current string. */
  secrets: Map<string, string>;
  /** API key id → value. */
  apiKeys: Map<string, string>;
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stacks,
    secrets,
    apiKeys,
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

const escapeXml = (value: string) =>
  value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** SDK client options for the stand-in: its endpoint and throwaway credentials. */
export const standInClientConfig = (standIn: Pick<AwsStandIn, 'url'>) => ({
  endpoint: standIn.url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'stand-in', secretAccessKey: 'stand-in' },
});
