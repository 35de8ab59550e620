import { randomUUID } from 'node:crypto';
import {
  GetCommand,
  type GetCommandInput,
  PutCommand,
  type PutCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { countSegments } from '#channels/sms-segments.ts';
import type { HttpEvent, HttpResult } from '#platform/http.ts';
import { createDocumentClient } from '#store/dynamodb-client.ts';
import { keys } from '#store/table.ts';
import type { MeteredCall } from './dynamodb-meter.ts';
import {
  answerParams,
  BENCH_API_KEY_ID,
  cancelEvent,
  checkEvent,
  DELIVERY_STATUSES,
  deliveryReportParams,
  hangupParams,
  sendEvent,
  signedWebhook,
  smsSendEvent,
  statusEvent,
  whatsappSendEvent,
} from './events.ts';
import { benchPhones, type Fixture, fixtureMaker, fixtureOf } from './fixtures.ts';
import { meteredHandlers } from './handlers.ts';
import { inParallel } from './parallel.ts';
import {
  DELIVERY_REPORT,
  FLOOR_OF,
  type FloorOperation,
  floorLabel,
  SMS_SEND,
  type WarmRoute,
  WHATSAPP_SEND,
} from './routes.ts';
import { round, type Summary, summarize } from './stats.ts';
import { countStdout } from './stdout-bytes.ts';
import { serveWorker } from './worker.ts';

/**
 * Warm latency, round trips and consumed capacity per route, in one process, with the real handler
 * factories wired as the Lambdas wire them (config, logger, metrics and secrets from the environment; the
 * real DynamoDB store; the real Plivo client, talking to the simulator). Each invocation is paired with its
 * floor, the route's own DynamoDB requests replayed raw on a copy of its item (bench/routes.ts), alternating
 * which goes first, so both see the same machine.
 * The service's logs and metrics are written to stdout as on Lambda (here /dev/null) and counted.
 */
export interface WarmInput {
  env: Record<string, string>;
  invocations: number;
  warmup: number;
}

export interface RouteResult {
  route: WarmRoute;
  invocations: number;
  latencyMs: Summary;
  cpuMs: number;
  floor: { operation: FloorOperation; latencyMs: Summary; cpuMs: number };
  roundTrips: { mean: number; min: number; max: number; operations: string[] };
  /** Per invocation: capacity units DynamoDB reported, plus the estimated units of refused conditional writes. */
  capacity: { readUnits: number; writeUnits: number; estimatedWriteUnits: number };
  logBytes: number;
}

export interface WarmOutput {
  routes: RouteResult[];
  callsPlaced: number;
  /** The most segments any SMS sent here took (each segment is billed). */
  smsSegments: number;
}

const mostCommon = (sequences: string[][]) => {
  const counts = new Map<string, { n: number; sequence: string[] }>();
  for (const sequence of sequences) {
    const key = sequence.join(',');
    counts.set(key, { n: (counts.get(key)?.n ?? 0) + 1, sequence });
  }
  return [...counts.values()].sort((a, b) => b.n - a.n)[0]?.sequence ?? [];
};

export async function measureWarm(input: WarmInput, progress: (line: string) => void): Promise<WarmOutput> {
  const takeLogBytes = countStdout();
  const { env, invocations, warmup } = input;
  const total = warmup + invocations;
  const { config, tableName, meter, telephony, send, verify, answer, hangup, ring, authToken } =
    meteredHandlers(env);

  // The floors' own client, configured the same way and not metered.
  const raw = createDocumentClient({
    endpoint: config.dynamodbEndpoint,
    credentials: config.dynamodbCredentials,
  });
  const floorKey = (route: WarmRoute, i: number) => `BENCH#floor#${route}#${i}`;
  /** The route's request, issued raw against the floor's item instead of the route's (bench/routes.ts). */
  const replay = (call: MeteredCall, pk: string): Promise<unknown> => {
    const input = call.input;
    switch (call.operation) {
      case 'GetItem':
        return raw.send(new GetCommand({ ...(input as unknown as GetCommandInput), Key: { pk } }));
      case 'UpdateItem':
        return raw.send(new UpdateCommand({ ...(input as unknown as UpdateCommandInput), Key: { pk } }));
      case 'PutItem': {
        const put = input as unknown as PutCommandInput;
        return raw.send(new PutCommand({ ...put, Item: { ...put.Item, pk } }));
      }
      case 'TransactWriteItems': {
        // Each of its items to a fresh key of its own, under a token of its own (the route's names its request).
        const { ClientRequestToken: _token, ...transaction } = input as unknown as TransactWriteCommandInput;
        return raw.send(
          new TransactWriteCommand({
            ...transaction,
            TransactItems: (transaction.TransactItems ?? []).map((item, n) => {
              const key = `${pk}#${n}`;
              if (item.Put) return { Put: { ...item.Put, Item: { ...item.Put.Item, pk: key } } };
              if (item.Update) return { Update: { ...item.Update, Key: { pk: key } } };
              throw new Error('no floor replays this transaction item');
            }),
          }),
        );
      }
      default:
        throw new Error(`no floor replays ${call.operation}`);
    }
  };
  /** The route's calls its floor is made of: its design's operations, in order, from what it issued. */
  const floorCalls = (route: WarmRoute, calls: readonly MeteredCall[]): MeteredCall[] => {
    const wanted = FLOOR_OF[route];
    const picked: MeteredCall[] = [];
    for (const call of calls) if (call.operation === wanted[picked.length]) picked.push(call);
    if (picked.length < wanted.length)
      throw new Error(
        `${route} did not issue ${wanted.join(', ')}: ${calls.map((c) => c.operation).join(', ')}`,
      );
    return picked;
  };
  /** A copy of each item the route will work on, as it is before the phase: the floor works on the copy. */
  const copyItems = (route: WarmRoute, ids: ReadonlyArray<string | undefined>) =>
    inParallel(
      ids.map((id, i) => ({ id, i })),
      8,
      async ({ id, i }) => {
        if (!id) return;
        const { Item } = await raw.send(
          new GetCommand({ TableName: tableName, Key: { pk: keys.verification(id) }, ConsistentRead: true }),
        );
        if (!Item) throw new Error(`${route}: no item to copy for its floor`);
        await raw.send(new PutCommand({ TableName: tableName, Item: { ...Item, pk: floorKey(route, i) } }));
      },
    );

  const routes: RouteResult[] = [];
  async function measure(
    route: WarmRoute,
    fixtures: readonly Fixture[] | undefined,
    prepare: (i: number, fixture: Fixture | undefined) => HttpEvent,
    handle: (event: HttpEvent) => Promise<HttpResult>,
    accept: (result: HttpResult, body: Record<string, unknown>) => boolean,
    /** The verification invocation i works on (its floor works on a copy): by default its fixture's. */
    itemOf: (i: number) => string | undefined = (i) => fixtures?.[i]?.id,
  ) {
    const latencies: number[] = [];
    const floorLatencies: number[] = [];
    const roundTrips: string[][] = [];
    const calls: MeteredCall[] = [];
    let cpu = 0;
    let floorCpu = 0;
    let logBytes = 0;
    await copyItems(
      route,
      Array.from({ length: total }, (_, i) => itemOf(i)),
    );
    const timed = async (run: () => Promise<unknown>) => {
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const result = await run();
      const ms = performance.now() - started;
      const used = process.cpuUsage(cpuBefore);
      return { result, ms, cpuMs: (used.user + used.system) / 1000 };
    };
    // The route's latest calls: a floor that runs first replays the previous invocation's.
    let designed: MeteredCall[] = [];
    for (let i = 0; i < total; i++) {
      const event = prepare(i, fixtures?.[i]);
      meter.take();
      takeLogBytes();
      let metered: MeteredCall[] = [];
      const runRoute = async () => {
        const timing = await timed(() => handle(event));
        metered = meter.take();
        const result = timing.result as HttpResult;
        const body = (result.headers?.['Content-Type'] as string | undefined)?.includes('json')
          ? (JSON.parse(result.body) as Record<string, unknown>)
          : {};
        if (!accept(result, body))
          throw new Error(`${route} answered ${result.statusCode}: ${result.body.slice(0, 300)}`);
        designed = floorCalls(route, metered);
        return timing;
      };
      const runFloor = () =>
        timed(async () => {
          for (const call of designed) await replay(call, floorKey(route, i));
        });
      let service: Awaited<ReturnType<typeof runRoute>>;
      let base: Awaited<ReturnType<typeof runFloor>>;
      if (i % 2 === 0) {
        service = await runRoute();
        base = await runFloor();
      } else {
        base = await runFloor();
        service = await runRoute();
      }
      const bytes = takeLogBytes();
      if (i < warmup) continue;
      latencies.push(service.ms);
      floorLatencies.push(base.ms);
      cpu += service.cpuMs;
      floorCpu += base.cpuMs;
      roundTrips.push(metered.map((call) => call.operation));
      calls.push(...metered);
      logBytes += bytes;
    }
    const perInvocation = (value: number) => round(value / invocations, 3);
    const counts = roundTrips.map((sequence) => sequence.length);
    routes.push({
      route,
      invocations,
      latencyMs: summarize(latencies),
      cpuMs: perInvocation(cpu),
      floor: {
        operation: floorLabel(FLOOR_OF[route]),
        latencyMs: summarize(floorLatencies),
        cpuMs: perInvocation(floorCpu),
      },
      roundTrips: {
        mean: perInvocation(counts.reduce((a, b) => a + b, 0)),
        min: Math.min(...counts),
        max: Math.max(...counts),
        operations: mostCommon(roundTrips),
      },
      capacity: {
        readUnits: perInvocation(calls.reduce((sum, c) => sum + c.readUnits, 0)),
        writeUnits: perInvocation(calls.reduce((sum, c) => sum + c.writeUnits, 0)),
        estimatedWriteUnits: perInvocation(
          calls.filter((c) => c.estimated).reduce((sum, c) => sum + c.writeUnits, 0),
        ),
      },
      logBytes: perInvocation(logBytes),
    });
    progress(`warm ${route}: p50 ${summarize(latencies).p50.toFixed(2)} ms (${invocations} invocations)`);
  }

  const phones = benchPhones(4 * total + 1);
  telephony.calls.clear();
  await measure(
    'send',
    undefined,
    (i) => sendEvent(phones[1 + i] ?? ''),
    send,
    (result, body) => result.statusCode === 202 && body.status === 'pending',
  );
  // Opened after the timing: each send's call, in the order they were placed.
  const started = [...telephony.calls.values()].map((call) => fixtureOf(ring, call));
  const callsPlaced = started.length;
  await measure(
    SMS_SEND,
    undefined,
    (i) => smsSendEvent(phones[1 + 3 * total + i] ?? ''),
    send,
    (result, body) => result.statusCode === 202 && body.status === 'pending' && body.channel === 'sms',
  );
  // The slice no other route uses: a phone's earlier pending verification would be superseded, adding work.
  await measure(
    WHATSAPP_SEND,
    undefined,
    (i) => whatsappSendEvent(phones[1 + 2 * total + i] ?? ''),
    send,
    (result, body) => result.statusCode === 202 && body.status === 'pending' && body.channel === 'whatsapp',
  );
  // In the order they were sent; only the segment count of each text is kept.
  const messages = [...telephony.messages.values()].map(({ verificationId, statusUrl, messageId, text }) => ({
    verificationId,
    statusUrl,
    messageId,
    segments: countSegments(text).segments,
  }));
  const isXml = (result: HttpResult) => result.statusCode === 200 && result.body.startsWith('<');
  await measure(
    'answer',
    started,
    (_i, f) => signedWebhook(f?.answerUrl ?? '', answerParams(randomUUID()), authToken),
    answer,
    (result) => isXml(result) && result.body.includes('<Speak'),
  );
  await measure(
    'hangup',
    started,
    (_i, f) => signedWebhook(f?.hangupUrl ?? '', hangupParams(randomUUID()), authToken),
    hangup,
    isXml,
  );
  // Each message gets its reports in Plivo's order, queued, sent, delivered, until every invocation is used.
  const reported = messages.slice(0, Math.ceil(total / DELIVERY_STATUSES.length));
  const reportOf = (i: number) => {
    const message = reported[Math.floor(i / DELIVERY_STATUSES.length)];
    const status = DELIVERY_STATUSES[i % DELIVERY_STATUSES.length];
    if (!message || !status) throw new Error(`no delivery report prepared for invocation ${i}`);
    return signedWebhook(message.statusUrl, deliveryReportParams(message.messageId, status), authToken);
  };
  await measure(
    DELIVERY_REPORT,
    undefined,
    reportOf,
    hangup,
    isXml,
    (i) => reported[Math.floor(i / DELIVERY_STATUSES.length)]?.verificationId,
  );
  // Each report must have been recorded, not refused: every message a full set reached is delivered.
  const complete = reported.slice(0, Math.floor(total / DELIVERY_STATUSES.length));
  await inParallel(complete, 8, async ({ verificationId, messageId }) => {
    const { Item } = await raw.send(
      new GetCommand({
        TableName: tableName,
        Key: { pk: keys.verification(verificationId) },
        ConsistentRead: true,
      }),
    );
    const message = Item?.message as { status?: string; uuid?: string } | undefined;
    if (message?.status !== 'delivered' || message.uuid !== messageId)
      throw new Error(`delivery reports were not recorded: message ${JSON.stringify(message?.status)}`);
  });
  await measure(
    'status',
    started,
    (_i, f) => statusEvent(f?.id ?? ''),
    verify,
    (result, body) => result.statusCode === 200 && body.status === 'pending',
  );
  const wrong = (code: string) => [...code].map((digit) => String((Number(digit) + 1) % 10)).join('');
  await measure(
    'check wrong',
    started,
    (_i, f) => checkEvent(f?.id ?? '', wrong(f?.code ?? '')),
    verify,
    (result, body) => result.statusCode === 200 && body.valid === false && body.status === 'pending',
  );
  await measure(
    'check right',
    started,
    (_i, f) => checkEvent(f?.id ?? '', f?.code ?? ''),
    verify,
    (result, body) => result.statusCode === 200 && body.valid === true,
  );
  progress('warm: creating verifications to cancel');
  const makeFixtures = fixtureMaker(env, BENCH_API_KEY_ID);
  const toCancel = await makeFixtures(phones.slice(1 + total, 1 + 2 * total));
  await measure(
    'cancel',
    toCancel,
    (_i, f) => cancelEvent(f?.id ?? ''),
    verify,
    (result, body) => result.statusCode === 200 && body.status === 'canceled',
  );
  return {
    routes,
    callsPlaced,
    smsSegments: Math.max(...messages.map((m) => m.segments)),
  };
}

if (process.send) serveWorker(measureWarm);
