import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { shardSuffix } from '#abuse/sharded-counter.ts';
import { telephonyFor } from '#channels/plivo-calls.ts';
import { loadConfig } from '#platform/config.ts';
import { containerFromEnvironment } from '#platform/runtime.ts';
import { createDocumentClient, STORE_TIME_BUDGET } from '#store/dynamodb-client.ts';
import { dynamoDbStore } from '#store/dynamodb-store.ts';
import { createSendHandler } from '../functions/send.ts';
import { createTable } from '../local/dynamodb-local.ts';
import { sendEvent } from './events.ts';
import { benchPhones } from './fixtures.ts';
import { inParallel } from './parallel.ts';
import { round } from './stats.ts';
import { serveWorker } from './worker.ts';

/**
 * The scale phase: real sends (the send handler wired as bench/warm.ts wires it, the Plivo simulator, DynamoDB
 * Local) with many in flight, every DynamoDB write counted per item. One item takes about 1,000 writes a
 * second on DynamoDB, so the figure that matters is the largest share of the sends' writes any one item
 * took: with N counter shards, about 1/N. Three passes, each on a fresh table: N shards, 1 shard for
 * contrast, and N shards with DAILY_CALL_CAP below the number of sends, which must admit exactly the cap
 * and refuse the rest with 503 daily_call_cap_reached.
 *
 * `npm run bench` runs it as a phase; `npm run bench:scale -- [--quick] [--shards N]` runs it alone
 * (bench/scale-only.ts).
 */
export interface ScaleInput {
  /** A function environment (bench/environment.ts); each pass gets its own table, named after TABLE_NAME. */
  env: Record<string, string>;
  sends: number;
  concurrency: number;
  shards: number;
  cap: number;
}

export interface ScalePass {
  shards: number;
  sends: number;
  /** DAILY_CALL_CAP in this pass. */
  dailyCallCap: number;
  admitted: number;
  /** Refused sends by status and error code, e.g. `503 daily_call_cap_reached`. */
  refused: Record<string, number>;
  /** Every write request (UpdateItem, PutItem, DeleteItem, each item of a transaction), refused ones too. */
  writes: number;
  /** BatchGetItem requests: a send refused by a full shard reads the others once. */
  batchReads: number;
  /** The item that took the most writes, and its writes as a share of the sends. */
  hottest: { item: string; writes: number; shareOfSends: number };
  /** What the global cap's shard items hold at the end: their sum must be `admitted`. */
  globalCounted: number;
  seconds: number;
}

export interface ScaleOutput {
  concurrency: number;
  sharded: ScalePass;
  unsharded: ScalePass;
  capped: ScalePass & { exact: boolean };
}

/** Counts the writes of every request a client sends, per item key (pk), the refused conditional ones too. */
function meterWrites(client: DynamoDBDocumentClient) {
  const perItem = new Map<string, number>();
  let batchReads = 0;
  const count = (pk: unknown) => perItem.set(String(pk), (perItem.get(String(pk)) ?? 0) + 1);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as {
        Key?: { pk?: unknown };
        Item?: { pk?: unknown };
        TransactItems?: Array<Record<string, { Key?: { pk?: unknown }; Item?: { pk?: unknown } }>>;
      };
      const command = String(context.commandName);
      if (/^(Update|Put|Delete)(Item)?Command$/.test(command)) count(input.Key?.pk ?? input.Item?.pk);
      else if (command.startsWith('TransactWrite'))
        for (const item of input.TransactItems ?? [])
          for (const write of Object.values(item)) count(write.Key?.pk ?? write.Item?.pk);
      else if (command.startsWith('BatchGet')) batchReads++;
      return next(args);
    },
    { step: 'initialize', name: 'benchItemWrites', priority: 'high' },
  );
  return { perItem, batchReads: () => batchReads };
}

/**
 * Distinct numbers taken across bench/fixtures.ts's 100 area codes in turn, as real traffic spreads over many
 * number ranges: each area code is a fraud-guard range (its window item is written per placed call).
 */
function spreadPhones(count: number): string[] {
  const byArea = new Map<string, string[]>();
  for (const phone of benchPhones(9_000)) {
    const area = phone.slice(2, 5);
    byArea.set(area, [...(byArea.get(area) ?? []), phone]);
  }
  // Line by line across the area codes; an area code with fewer numbers (scripted callees) is skipped.
  const phones: string[] = [];
  for (let line = 0; phones.length < count && line < 100; line++)
    for (const list of byArea.values()) {
      const phone = list[line];
      if (phone && phones.length < count) phones.push(phone);
    }
  return phones;
}

/** The store answers 503 for a second after a timeout (STORE_TIME_BUDGET.failFastMs): a read tried again. */
async function readAfterTimeouts<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (attempt === 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, STORE_TIME_BUDGET.failFastMs + 100));
    }
  }
}

async function runPass(
  input: ScaleInput,
  pass: { name: string; shards: number; dailyCallCap: number },
  progress: (line: string) => void,
): Promise<ScalePass> {
  const env = {
    ...input.env,
    TABLE_NAME: `${input.env.TABLE_NAME}-${pass.name}`,
    COUNTER_SHARDS: String(pass.shards),
    DAILY_CALL_CAP: String(pass.dailyCallCap),
  };
  const container = containerFromEnvironment(env);
  const { config } = container;
  const connection = {
    endpoint: config.dynamodbEndpoint ?? '',
    credentials: config.dynamodbCredentials ?? { accessKeyId: '', secretAccessKey: '' },
  };
  // No stream: nothing here reads it, and DynamoDB Local keeps every record of it, slowing each write.
  await createTable(connection, env.TABLE_NAME, { stream: false });
  const client = createDocumentClient(connection);
  const meter = meterWrites(client);
  const store = dynamoDbStore({
    db: client,
    tableName: env.TABLE_NAME,
    retentionSeconds: config.retentionSeconds,
  });
  const send = createSendHandler({ ...container, store, telephony: telephonyFor(container) });
  try {
    const started = performance.now();
    const results = await inParallel(spreadPhones(input.sends), input.concurrency, async (phone) => {
      const result = await send(sendEvent(phone));
      if (result.statusCode === 202) return 'admitted';
      const code = (JSON.parse(result.body) as { error?: { code?: string } }).error?.code ?? 'unknown';
      return `${result.statusCode} ${code}`;
    });
    const seconds = round((performance.now() - started) / 1000, 1);
    const refused: Record<string, number> = {};
    for (const outcome of results) if (outcome !== 'admitted') refused[outcome] = (refused[outcome] ?? 0) + 1;
    const [item, writes] = [...meter.perItem].reduce(
      (top, entry) => (entry[1] > top[1] ? entry : top),
      ['', 0],
    );
    // The day's global counter, read back shard by shard (the key its sends wrote, lib/abuse/abuse.ts).
    const day = new Date(Date.now()).toISOString().slice(0, 10);
    const globalKeys = Array.from({ length: pass.shards }, (_, i) => `RATE#global${shardSuffix(i)}#${day}`);
    const counters = await readAfterTimeouts(() => store.readCounters(globalKeys, { consistent: true }));
    const result: ScalePass = {
      shards: pass.shards,
      sends: input.sends,
      dailyCallCap: pass.dailyCallCap,
      admitted: results.filter((outcome) => outcome === 'admitted').length,
      refused,
      writes: [...meter.perItem.values()].reduce((sum, n) => sum + n, 0),
      batchReads: meter.batchReads(),
      hottest: { item, writes, shareOfSends: round(writes / input.sends, 4) },
      globalCounted: [...counters.values()].reduce((sum, counter) => sum + Number(counter.n ?? 0), 0),
      seconds,
    };
    progress(
      `scale (${pass.name}): ${result.admitted} of ${result.sends} admitted in ${seconds} s, ` +
        `hottest item ${(result.hottest.shareOfSends * 100).toFixed(1)} % of the sends`,
    );
    return result;
  } finally {
    client.destroy();
  }
}

export async function measureScale(
  input: ScaleInput,
  progress: (line: string) => void,
): Promise<ScaleOutput> {
  // 64 sends in flight on DynamoDB Local on a shared 2-core machine take some calls past the 1 s a Lambda's
  // store waits, and a timeout fails the next second's calls at once (503). This phase counts writes per item
  // and admissions, not latency: its store waits longer (this worker's process only).
  Object.assign(STORE_TIME_BUDGET, { connectMs: 5_000, requestMs: 10_000 });
  const uncapped = Number(loadConfig(input.env).abuse.dailyCallCap);
  // DynamoDB Local's JVM, cold, takes a first burst of 64 sends past even that budget: a pass not counted.
  await runPass(
    { ...input, sends: 2 * input.concurrency },
    { name: 'warm-up', shards: input.shards, dailyCallCap: uncapped },
    progress,
  );
  const sharded = await runPass(
    input,
    { name: `n${input.shards}`, shards: input.shards, dailyCallCap: uncapped },
    progress,
  );
  const unsharded = await runPass(input, { name: 'n1', shards: 1, dailyCallCap: uncapped }, progress);
  const capped = await runPass(
    input,
    { name: `n${input.shards}-cap`, shards: input.shards, dailyCallCap: input.cap },
    progress,
  );
  // Without a cap, a refusal can only be the loaded machine (a store or simulator timeout): the table shows
  // it, and the share is still measured. Under the cap every refusal must be the cap's.
  const capRefusals = capped.refused['503 daily_call_cap_reached'] ?? 0;
  const exact =
    capped.admitted === input.cap &&
    capRefusals === input.sends - input.cap &&
    capped.globalCounted === input.cap;
  // A cap that does not hold is a broken promise, not a missed ratio: the run fails.
  if (!exact)
    throw new Error(`scale: the sharded cap of ${input.cap} did not hold: ${JSON.stringify(capped)}`);
  return { concurrency: input.concurrency, sharded, unsharded, capped: { ...capped, exact } };
}

export const SCALE_SIZES = {
  full: { sends: 5000, cap: 3000 },
  quick: { sends: 200, cap: 150 },
} as const;
export const SCALE_CONCURRENCY = 64;
export const SCALE_SHARDS = 8;

if (process.send) serveWorker(measureScale);
