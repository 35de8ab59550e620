import { randomUUID } from 'node:crypto';
import { relative } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { expect, inject } from 'vitest';
import type {
  CallEnder,
  CallRequest,
  CallToEnd,
  MessageRequest,
  Telephony,
  WhatsAppRequest,
} from '#channels/telephony.ts';
import { eventBridgeSink } from '#events/eventbridge-sink.ts';
import type { OutcomeEvent } from '#events/outcome-events.ts';
import { type Config, loadConfig } from '#platform/config.ts';
import { newKeyRingSecret, parseKeyRing } from '#platform/keyring.ts';
import { createLogger } from '#platform/logger.ts';
import { recordingCounters } from '#platform/metrics.ts';
import type { FunctionName } from '#platform/routes.ts';
import { type Secrets, staticSecrets } from '#platform/secrets.ts';
import { createDocumentClient } from '#store/dynamodb-client.ts';
import { dynamoDbStore } from '#store/dynamodb-store.ts';
import type { Store } from '#store/store.ts';
import { openCall } from '#verification/seal.ts';
import { createAnswerHandler } from '../../functions/answer.ts';
import { createEventsHandler } from '../../functions/events.ts';
import { createHangupHandler } from '../../functions/hangup.ts';
import { createSendHandler } from '../../functions/send.ts';
import { createVerifyHandler } from '../../functions/verify.ts';
import { FUNCTION_ACCESS, type SecretName } from '../../infra/function-access.ts';
import { createTable, type DynamoDbConnection, localClient } from '../../local/dynamodb-local.ts';
import { StreamReader, streamEvent, verificationRecords } from '../../local/stream-reader.ts';
import { awsClientsFor } from './aws-clients.ts';
import { CommandLog, iamActions, recordCommands } from './dynamodb-commands.ts';
import { API_KEY_ID, apiEvent, PLIVO_AUTH_TOKEN } from './events.ts';

export {
  API_KEY_ID,
  answerParams,
  apiEvent,
  hangupParams,
  PLIVO_AUTH_TOKEN,
  webhookEvent,
} from './events.ts';

/** Limits high enough that lifecycle tests, which send often to one number, measure the lifecycle. */
export const RELAXED_LIMITS = {
  PHONE_MIN_GAP_SECONDS: '0',
  PHONE_MAX_PER_10_MINUTES: '100000',
  PHONE_MAX_PER_DAY: '100000',
  PHONE_MAX_GUESSES_PER_DAY: '100000',
  API_KEY_MAX_PER_MINUTE: '100000',
  API_KEY_MAX_PER_DAY: '100000',
  COUNTRY_MAX_PER_HOUR: '100000',
  DAILY_CALL_CAP: '100000',
  FRAUD_GUARD_MIN_CALLS: '100000',
  FRAUD_GUARD_GLOBAL_MIN_CALLS: '100000',
};

/** A telephony that records what it was asked to do; `fail` makes the next calls and messages throw. */
export class RecordingTelephony implements Telephony, CallEnder {
  readonly calls: CallRequest[] = [];
  readonly messages: MessageRequest[] = [];
  readonly whatsApps: WhatsAppRequest[] = [];
  /** The request ids of the calls the events function hung up, in order. */
  readonly ended: string[] = [];
  /** Makes hang-ups throw (the provider unreachable). */
  failEndCall: Error | undefined;
  fail: Error | undefined;
  /** Makes only calls, SMS or WhatsApp messages throw (a provider refusing one channel for a number). */
  failCalls: Error | undefined;
  failMessages: Error | undefined;
  failWhatsApps: Error | undefined;
  /** How long placing a call or sending a message takes, to hold requests in flight. */
  delayMs = 0;

  async placeCall(request: CallRequest) {
    this.calls.push(request);
    await this.#outcome(this.failCalls);
    return { requestId: randomUUID() };
  }

  async sendMessage(request: MessageRequest) {
    this.messages.push(request);
    await this.#outcome(this.failMessages);
    return { messageId: randomUUID() };
  }

  async sendWhatsApp(request: WhatsAppRequest) {
    this.whatsApps.push(request);
    await this.#outcome(this.failWhatsApps);
    return { messageId: randomUUID() };
  }

  async endCall({ requestId }: CallToEnd) {
    if (this.failEndCall) throw this.failEndCall;
    this.ended.push(requestId);
    return 'ended' as const;
  }

  async #outcome(channelFailure: Error | undefined) {
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const failure = this.fail ?? channelFailure;
    if (failure) throw failure;
  }
}

/**
 * A clock tests move by hand. It starts at the real time because DynamoDB Local really deletes items whose
 * TTL has passed by the wall clock; tests may move it forward, never back past the wall clock.
 */
export class TestClock {
  now = Date.now();
  readonly read = () => this.now;
  advance(ms: number) {
    this.now += ms;
  }
}

export interface Harness {
  config: Config;
  tableName: string;
  endpoint: string;
  /** The DynamoDB Local and key pair the table lives in, for clients of the test's own. */
  connection: DynamoDbConnection;
  clock: TestClock;
  telephony: RecordingTelephony;
  keyRingSecret: string;
  /** Each function's own store and client, as on AWS; what each issues is recorded under its name. */
  stores: Record<FunctionName, Store>;
  /** What `name`'s handler was built with, to build another (e.g. with other secrets or a failing store). */
  depsFor(name: FunctionName): HandlerDeps;
  /** `name`'s EventBridge and SQS clients: only what it is granted answers (test/support/aws-clients.ts). */
  awsFor(name: FunctionName): ReturnType<typeof awsClientsFor>;
  /** Every DynamoDB round trip any of the handlers made, by command name (e.g. UpdateItemCommand). */
  dynamoCalls: string[];
  metrics: ReturnType<typeof recordingCounters>;
  send: ReturnType<typeof createSendHandler>;
  verify: ReturnType<typeof createVerifyHandler>;
  answer: ReturnType<typeof createAnswerHandler>;
  hangup: ReturnType<typeof createHangupHandler>;
  /** The events function on the table's stream, with a recording sink standing in for EventBridge. */
  events: ReturnType<typeof createEventsHandler>;
  /** What the events function published, oldest first, across every drain. */
  published: OutcomeEvent[];
  /**
   * Hands the verification records written since the last drain to the events handler, in one batch, as
   * Lambda's event source mapping (its filter included) would; `records` sees them first (to poison one, say). Returns the handler's answer.
   */
  drainStream(records?: (records: DynamoDBRecord[]) => DynamoDBRecord[]): Promise<DynamoDBBatchResponse>;
  scan(): Promise<Record<string, unknown>[]>;
}

/** The test run's DynamoDB Local (started by the global setup) and its key pair. */
export const runDynamoDb = (): DynamoDbConnection => ({
  endpoint: inject('dynamodbEndpoint'),
  credentials: inject('dynamodbCredentials'),
});

export type HandlerDeps = Parameters<typeof createVerifyHandler>[0];

const FUNCTIONS: FunctionName[] = ['send', 'verify', 'answer', 'hangup', 'events', 'deliver'];
const ROOT = new URL('../..', import.meta.url).pathname;
let commandLog: CommandLog | undefined;

/** This test file's log of the commands its handlers issue (read by test/grants after the suite). */
function commandLogOfThisFile(): CommandLog {
  const directory = inject('dynamodbCommandLog');
  if (!directory) throw new Error("No dynamodbCommandLog: the suite project's global setup provides it.");
  commandLog ??= new CommandLog(directory);
  return commandLog;
}

/**
 * Real handlers on a fresh table in the run's DynamoDB Local (or the one at `options.connection`), with a
 * recording telephony and a hand clock.
 */
export async function createHarness(
  env: Record<string, string> = {},
  /** `stream`: the table's stream on, for tests that drain it (DynamoDB Local's stream slows every write). */
  options: { connection?: DynamoDbConnection; stream?: boolean } = {},
): Promise<Harness> {
  const connection = options.connection ?? runDynamoDb();
  const { endpoint } = connection;
  const tableName = `t-${randomUUID()}`;
  await createTable(connection, tableName, { stream: options.stream === true });
  const config = loadConfig({
    TABLE_NAME: tableName,
    DYNAMODB_ENDPOINT: endpoint,
    PUBLIC_URL: 'https://otp.example.test/prod',
    ...RELAXED_LIMITS,
    ...env,
  });
  const clock = new TestClock();
  const telephony = new RecordingTelephony();
  const keyRingSecret = env.KEYRING ?? newKeyRingSecret();
  const dynamoCalls: string[] = [];
  const log = commandLogOfThisFile();
  const file = relative(ROOT, expect.getState().testPath ?? '');
  log.harness(file);
  // Every metric counted goes to the log too: test/grants holds each alarm's metric to code that emits it.
  const recorded = recordingCounters();
  const metrics: typeof recorded = {
    counted: recorded.counted,
    count: (name, dimension) => {
      log.metric(name, dimension);
      recorded.count(name, dimension);
    },
    publish: recorded.publish,
  };
  const storeFor = (name: FunctionName) => {
    const documentClient = createDocumentClient(connection);
    recordCommands(documentClient, (command, input) => {
      dynamoCalls.push(command);
      log.command({ file, function: name, command, actions: iamActions(command, input) });
    });
    return dynamoDbStore({ db: documentClient, tableName, retentionSeconds: config.retentionSeconds });
  };
  const stores = Object.fromEntries(FUNCTIONS.map((name) => [name, storeFor(name)])) as Record<
    FunctionName,
    Store
  >;
  const allSecrets = staticSecrets(keyRingSecret, { authId: 'MATESTAUTHID', authToken: PLIVO_AUTH_TOKEN });
  // Each function reads only the secrets infra/function-access.ts grants it, as on AWS; each read is logged.
  const secretsFor = (name: FunctionName): Secrets => {
    const read = (secret: SecretName) => {
      log.command({ file, function: name, command: 'GetSecretValue', actions: [`secret:${secret}`] });
      if (!FUNCTION_ACCESS[name].secrets.includes(secret))
        throw new Error(`${name} has no grant to read the ${secret} secret (infra/function-access.ts)`);
    };
    return {
      keyRing: async (options) => {
        read('keyRing');
        return allSecrets.keyRing(options);
      },
      plivo: async () => {
        read('plivo');
        return allSecrets.plivo();
      },
    };
  };
  // The recording telephony as each function holds it: like lib/channels/plivo-calls.ts, every request to
  // Plivo first reads the function's Plivo credentials, so a function without that grant fails here too.
  const telephonyFor = (name: FunctionName): Telephony & CallEnder => {
    const credentials = () => secretsFor(name).plivo();
    return {
      placeCall: async (request) => {
        await credentials();
        return telephony.placeCall(request);
      },
      sendMessage: async (request) => {
        await credentials();
        return telephony.sendMessage(request);
      },
      sendWhatsApp: async (request) => {
        await credentials();
        return telephony.sendWhatsApp(request);
      },
      endCall: async (call) => {
        await credentials();
        return telephony.endCall(call);
      },
    };
  };
  const awsFor = (name: FunctionName) =>
    awsClientsFor(name, (command, action) =>
      log.command({ file, function: name, command, actions: [action] }),
    );
  const base = {
    config,
    clock: clock.read,
    metrics,
    logger: createLogger({ logLevel: (env.LOG_LEVEL as 'DEBUG' | undefined) ?? 'SILENT' }),
  };
  const depsFor = (name: FunctionName): HandlerDeps => ({
    ...base,
    secrets: secretsFor(name),
    store: stores[name],
  });
  const client = localClient(connection);
  const stream = options.stream ? await StreamReader.open(connection, tableName) : undefined;
  const published: OutcomeEvent[] = [];
  const events = createEventsHandler({
    ...depsFor('events'),
    store: stores.events,
    telephony: telephonyFor('events'),
    sinks: [
      { publish: async (list) => void published.push(...list) },
      // The bus, through the real EventBridge client (answered by a stand-in): its grant is checked too.
      eventBridgeSink(awsFor('events').eventBridge, 'voice-otp-test-bus'),
    ],
  });
  return {
    config,
    tableName,
    endpoint,
    connection,
    clock,
    telephony,
    keyRingSecret,
    stores,
    depsFor,
    awsFor,
    dynamoCalls,
    metrics,
    send: createSendHandler({ ...depsFor('send'), telephony: telephonyFor('send') }),
    verify: createVerifyHandler(depsFor('verify')),
    answer: createAnswerHandler(depsFor('answer')),
    hangup: createHangupHandler({
      ...depsFor('hangup'),
      publicUrl: config.publicUrl,
      telephony: telephonyFor('hangup'),
    }),
    events,
    published,
    async drainStream(choose = (records) => records) {
      if (!stream) throw new Error('createHarness(env, { stream: true }) to drain the stream');
      const records = choose(verificationRecords(await stream.read()));
      if (records.length === 0) return { batchItemFailures: [] };
      return events(streamEvent(records));
    },
    async scan() {
      const out = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
      return (out.Items ?? []).map((item) => unmarshall(item));
    },
  };
}

export const parse = (result: { body: string }) => JSON.parse(result.body) as Record<string, unknown>;

/** The code a call would speak: opened from the sealed answer URL, exactly as the answer webhook does. */
export function spokenCode(harness: Pick<Harness, 'keyRingSecret' | 'clock'>, call: CallRequest): string {
  const url = new URL(call.answerUrl);
  const opened = openCall(
    parseKeyRing(harness.keyRingSecret),
    url.searchParams.get('v') ?? '',
    url.searchParams.get('t') ?? '',
    harness.clock.now,
  );
  if (opened.kind !== 'valid') throw new Error(`answer URL token is ${opened.kind}`);
  return opened.call.code;
}

/** The code an SMS or WhatsApp message carries, read from its sealed delivery-report URL, as the fallback will read it. */
export function sentCode(
  harness: Pick<Harness, 'keyRingSecret' | 'clock'>,
  message: Pick<MessageRequest, 'statusUrl'>,
): string {
  const url = new URL(message.statusUrl);
  const opened = openCall(
    parseKeyRing(harness.keyRingSecret),
    url.searchParams.get('v') ?? '',
    url.searchParams.get('t') ?? '',
    harness.clock.now,
  );
  if (opened.kind !== 'valid') throw new Error(`delivery-report URL token is ${opened.kind}`);
  return opened.call.code;
}

/** Sends an SMS verification through the real handler; returns the 202 body, its message and code. */
export async function startSmsVerification(
  harness: Harness,
  phone = '+14155550123',
  extra: Record<string, unknown> = {},
) {
  const response = await harness.send(
    apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone, channel: 'sms', ...extra } }),
  );
  if (response.statusCode !== 202) throw new Error(`send answered ${response.statusCode}: ${response.body}`);
  const message = harness.telephony.messages.at(-1);
  if (!message) throw new Error('no message sent');
  const body = parse(response);
  return { body, id: body.id as string, message, code: sentCode(harness, message) };
}

/** A stack's WhatsApp settings: its Business number and the approved authentication template. */
export const WHATSAPP_SETTINGS = {
  WHATSAPP_FROM_NUMBER: '+14155550111',
  WHATSAPP_TEMPLATE: 'verification_code',
};

/** Sends a WhatsApp verification through the real handler; returns the 202 body, its request and code. */
export async function startWhatsAppVerification(
  harness: Harness,
  phone = '+14155550123',
  extra: Record<string, unknown> = {},
) {
  const response = await harness.send(
    apiEvent({
      method: 'POST',
      resource: '/v1/verifications',
      body: { phone, channel: 'whatsapp', ...extra },
    }),
  );
  if (response.statusCode !== 202) throw new Error(`send answered ${response.statusCode}: ${response.body}`);
  const whatsApp = harness.telephony.whatsApps.at(-1);
  if (!whatsApp) throw new Error('no WhatsApp message sent');
  const body = parse(response);
  return { body, id: body.id as string, whatsApp, code: sentCode(harness, whatsApp) };
}

/** Sends through the real handler; returns the 202 body and the code its call would speak. */
export async function startVerification(harness: Harness, phone = '+14155550123', apiKeyId = API_KEY_ID) {
  const response = await harness.send(
    apiEvent({ method: 'POST', resource: '/v1/verifications', body: { phone }, apiKeyId }),
  );
  if (response.statusCode !== 202) throw new Error(`send answered ${response.statusCode}: ${response.body}`);
  const call = harness.telephony.calls.at(-1);
  if (!call) throw new Error('no call placed');
  return { body: parse(response), id: parse(response).id as string, code: spokenCode(harness, call) };
}

export const check = (harness: Harness, body: unknown, apiKeyId = API_KEY_ID) =>
  harness.verify(apiEvent({ method: 'POST', resource: '/v1/verifications/check', body, apiKeyId }));

export const status = (harness: Harness, id: string, apiKeyId = API_KEY_ID) =>
  harness.verify(
    apiEvent({
      method: 'GET',
      resource: '/v1/verifications/{id}',
      path: `/v1/verifications/${id}`,
      pathParameters: { id },
      apiKeyId,
    }),
  );

export const cancel = (harness: Harness, id: string, apiKeyId = API_KEY_ID) =>
  harness.verify(
    apiEvent({
      method: 'POST',
      resource: '/v1/verifications/{id}/cancel',
      path: `/v1/verifications/${id}/cancel`,
      pathParameters: { id },
      apiKeyId,
    }),
  );

/** A code that differs from `code` in every digit. */
export const wrongCode = (code: string) =>
  [...code].map((digit) => String((Number(digit) + 1) % 10)).join('');

/** `count` distinct codes of `code`'s length, none of them `code`: the next ones after it, wrapping round. */
export const wrongCodes = (code: string, count: number) => {
  const space = 10 ** code.length;
  if (count >= space) throw new Error(`only ${space - 1} codes of length ${code.length} are wrong`);
  return Array.from({ length: count }, (_, i) =>
    String((Number(code) + i + 1) % space).padStart(code.length, '0'),
  );
};
