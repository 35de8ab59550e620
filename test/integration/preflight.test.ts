import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { matchRoute, toProxyEvent } from '../../local/gateway.ts';
import { PLACEHOLDER_AUTH_ID, preflight } from '../../ops/preflight.ts';
import { type AwsStandIn, awsStandIn, standInClientConfig } from '../support/aws-stand-in.ts';
import { captureServer } from '../support/capture-server.ts';
import { createHarness, type Harness } from '../support/harness.ts';

/**
 * `npm run preflight` against loopback stand-ins, through the real SDKs: AWS (CloudFormation, Secrets Manager,
 * SNS) speaking their wire protocols, Plivo's REST API answering as its docs describe (account details,
 * account numbers), and the real hangup handler behind the webhook URL.
 */
const STACK = 'VoiceOtp';
const PLIVO_SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:PlivoCredentials-abc';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:VoiceOtp-AlarmTopic';
const AUTH_ID = 'MAPREFLIGHT000000001';
const AUTH_TOKEN = 'preflight-secret-token-value';
const DEFAULT_NUMBER = '+14155550100';
const GB_NUMBER = '+447400123456';

let standIn: AwsStandIn;
let h: Harness;
let webhooks: Server;
let webhookUrl: string;
/** What the webhook server answers instead of the handler, when set (a broken function). */
let webhookOverride: number | undefined;
/** The Plivo account's numbers and what each may do. */
let plivoNumbers: Map<string, { voice_enabled: boolean; sms_enabled: boolean }>;
let plivo: Awaited<ReturnType<typeof captureServer>>;

beforeAll(async () => {
  standIn = await awsStandIn();
  h = await createHarness();
  // The real hangup function behind the webhook URL, as API Gateway would hand it requests.
  webhooks = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      if (webhookOverride) {
        response.writeHead(webhookOverride, { 'Content-Type': 'application/json' });
        return response.end('{"message":"Internal server error"}');
      }
      const url = new URL(request.url ?? '/', 'http://local');
      const match = matchRoute(request.method ?? 'GET', url.pathname);
      if (match.kind !== 'route') {
        response.writeHead(404);
        return response.end();
      }
      const result = await h.hangup(toProxyEvent(request, url, Buffer.concat(chunks), match, null));
      response.writeHead(result.statusCode, result.headers as Record<string, string>);
      response.end(result.body);
    });
  });
  await new Promise<void>((resolve) => webhooks.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(webhooks.address() as AddressInfo).port}`;
  plivo = await captureServer((request) => {
    const expected = `Basic ${Buffer.from(`${AUTH_ID}:${AUTH_TOKEN}`).toString('base64')}`;
    if (request.headers.authorization !== expected)
      return { status: 401, body: '{"api_id":"a","error":"authentication failed"}' };
    if (request.method === 'GET' && request.path === `/v1/Account/${AUTH_ID}/`)
      return {
        status: 200,
        body: JSON.stringify({ api_id: 'a', account_type: 'standard', auth_id: AUTH_ID }),
      };
    const number = new RegExp(`^/v1/Account/${AUTH_ID}/Number/(\\d+)/$`).exec(request.path)?.[1];
    const found = number && plivoNumbers.get(number);
    if (request.method === 'GET' && found)
      return { status: 200, body: JSON.stringify({ api_id: 'a', number, number_type: 'local', ...found }) };
    return { status: 404, body: '{"api_id":"a","error":"not found"}' };
  });
});

afterAll(async () => {
  await standIn.close();
  await plivo.close();
  await new Promise<void>((resolve) => webhooks.close(() => resolve()));
});

beforeEach(() => {
  webhookOverride = undefined;
  standIn.stacks.set(STACK, {
    WebhookUrl: webhookUrl,
    PlivoSecretArn: PLIVO_SECRET,
    PlivoNumbers: JSON.stringify({ '*': DEFAULT_NUMBER, GB: GB_NUMBER }),
    AlarmTopicArn: TOPIC,
  });
  standIn.secrets.set(PLIVO_SECRET, JSON.stringify({ authId: AUTH_ID, authToken: AUTH_TOKEN }));
  standIn.topics.set(TOPIC, [
    {
      SubscriptionArn: `${TOPIC}:0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e`,
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    },
  ]);
  plivoNumbers = new Map([
    ['14155550100', { voice_enabled: true, sms_enabled: true }],
    ['447400123456', { voice_enabled: true, sms_enabled: true }],
  ]);
});

async function run(stackName = STACK) {
  const lines: string[] = [];
  const code = await preflight({
    stackName,
    cloudFormation: new CloudFormationClient(standInClientConfig(standIn)),
    secrets: new SecretsManagerClient(standInClientConfig(standIn)),
    sns: new SNSClient(standInClientConfig(standIn)),
    plivoApiUrl: plivo.url,
    timeoutMs: 5_000,
    print: (line) => lines.push(line),
  });
  const output = lines.join('\n');
  // Never a secret, an auth id or a full phone number, whatever happened.
  for (const secret of [AUTH_TOKEN, AUTH_ID, DEFAULT_NUMBER, GB_NUMBER, '14155550100', '447400123456'])
    expect(output).not.toContain(secret);
  return { code, lines, output };
}

const failures = (lines: string[]) => lines.filter((line) => line.startsWith('FAIL'));

describe('npm run preflight', () => {
  it('passes a stack that is ready: one line per check, exit 0, read-only', async () => {
    const { code, lines } = await run();
    expect(failures(lines)).toEqual([]);
    expect(lines).toEqual([
      expect.stringMatching(/^PASS {2}stack outputs: /),
      'PASS  Plivo secret: set (not the placeholder)',
      'PASS  Plivo credentials: Plivo accepts them (account details read)',
      'PASS  caller ID (default, fromNumber) +1********00: belongs to the account, voice and SMS enabled',
      'PASS  caller ID for GB (fromNumbers) +4*********56: belongs to the account, voice and SMS enabled',
      'PASS  webhook URL: an unsigned request is refused with 403, as it must be',
      'PASS  alarm topic: 1 confirmed subscription(s)',
      'All checks passed.',
    ]);
    expect(code).toBe(0);
    // Read-only: reads at AWS, GETs at Plivo, and the probe wrote nothing to the table.
    expect(
      standIn.calls.filter((call) => !/DescribeStacks|GetSecretValue|ListSubscriptionsByTopic/.test(call)),
    ).toEqual([]);
    expect(plivo.requests.every((request) => request.method === 'GET')).toBe(true);
    expect(await h.scan()).toEqual([]);
  });

  it('refuses the placeholder secret the stack creates, with the command that sets it', async () => {
    standIn.secrets.set(
      PLIVO_SECRET,
      JSON.stringify({ authId: PLACEHOLDER_AUTH_ID, authToken: 'generated' }),
    );
    const { code, lines } = await run();
    expect(failures(lines)).toEqual([
      expect.stringMatching(
        /^FAIL {2}Plivo secret: still holds the placeholder .* Fix: aws secretsmanager put-secret-value --secret-id arn:/,
      ),
      expect.stringMatching(/^FAIL {2}Plivo numbers: not checked/),
    ]);
    expect(code).toBe(1);
  });

  it('fails when the secret is not the JSON the functions read, without quoting it', async () => {
    standIn.secrets.set(PLIVO_SECRET, `not json ${AUTH_TOKEN}`);
    const { code, lines } = await run();
    expect(failures(lines)[0]).toMatch(/^FAIL {2}Plivo secret: Plivo secret must be JSON .* Fix: /);
    expect(code).toBe(1);
  });

  it('fails when Plivo refuses the credentials (401)', async () => {
    standIn.secrets.set(PLIVO_SECRET, JSON.stringify({ authId: AUTH_ID, authToken: 'an-old-token' }));
    const { code, lines } = await run();
    expect(failures(lines)).toEqual([
      expect.stringMatching(
        /^FAIL {2}Plivo credentials: Plivo refused the auth id and token \(401\)\. Fix: copy/,
      ),
      expect.stringMatching(/^FAIL {2}Plivo numbers: not checked/),
    ]);
    expect(code).toBe(1);
  });

  it('fails for a caller ID the account does not have, and for one without SMS', async () => {
    plivoNumbers.delete('447400123456');
    plivoNumbers.set('14155550100', { voice_enabled: true, sms_enabled: false });
    const { code, lines } = await run();
    expect(failures(lines)).toEqual([
      expect.stringMatching(
        /^FAIL {2}caller ID \(default, fromNumber\) .*: belongs to the account but is not enabled for SMS\. Fix: /,
      ),
      expect.stringMatching(
        /^FAIL {2}caller ID for GB \(fromNumbers\) .*: is not a number of this Plivo account\. Fix: rent it/,
      ),
    ]);
    expect(code).toBe(1);
  });

  it('fails when the webhook URL answers a 5xx instead of refusing the unsigned probe', async () => {
    webhookOverride = 502;
    const { code, lines } = await run();
    expect(failures(lines)).toEqual([
      expect.stringMatching(/^FAIL {2}webhook URL: an unsigned request got 502: .* Fix: read the log group/),
    ]);
    expect(code).toBe(1);
  });

  it('fails when no one would hear an alarm: a subscription pending confirmation, or none', async () => {
    standIn.topics.set(TOPIC, [
      { SubscriptionArn: 'PendingConfirmation', Protocol: 'email', Endpoint: 'ops@example.com' },
    ]);
    const pending = await run();
    expect(failures(pending.lines)).toEqual([
      expect.stringMatching(
        /^FAIL {2}alarm topic: its subscriptions are all pending confirmation.* Fix: confirm the email/,
      ),
    ]);
    expect(pending.code).toBe(1);
    standIn.topics.set(TOPIC, []);
    expect(failures((await run()).lines)).toEqual([
      expect.stringMatching(/^FAIL {2}alarm topic: has no subscription/),
    ]);
  });

  it('fails at once for a stack that is not there, or not this version', async () => {
    const absent = await run('NoSuchStack');
    expect(absent.lines).toEqual([
      expect.stringMatching(/^FAIL {2}stack outputs: Stack NoSuchStack was not found/),
    ]);
    expect(absent.code).toBe(1);
    standIn.stacks.set(STACK, { WebhookUrl: webhookUrl });
    const old = await run();
    expect(old.lines).toEqual([
      expect.stringMatching(
        /^FAIL {2}stack outputs: stack VoiceOtp lacks PlivoSecretArn, PlivoNumbers, AlarmTopicArn\. Fix: deploy/,
      ),
    ]);
  });
});
