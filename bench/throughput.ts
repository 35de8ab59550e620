import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { loadConfig } from '#platform/config.ts';
import { createDocumentClient } from '#store/dynamodb-client.ts';
import { keys } from '#store/table.ts';
import { LOCAL_API_KEY_ID, startLocalStack } from '../local/stack.ts';
import { benchPhones, type Fixture, fixtureMaker } from './fixtures.ts';
import { inParallel } from './parallel.ts';
import { round, type Summary, summarize } from './stats.ts';
import { serveWorker } from './worker.ts';

/**
 * Throughput of right-code checks on the local stack (`npm start`'s HTTP server, the real handlers, DynamoDB
 * Local) with `concurrency` requests in flight, against raw UpdateItem calls to the same DynamoDB Local at
 * the same concurrency. Load and stack share this process, as the stack shares it with its callers in
 * `npm start`; the two are measured in alternating batches.
 */
export interface ThroughputInput {
  env: Record<string, string>;
  concurrency: number;
  requests: number;
  warmup: number;
}

export interface Load {
  requests: number;
  requestsPerSecond: number;
  latencyMs: Summary;
}

export interface ThroughputOutput {
  concurrency: number;
  checks: Load;
  rawUpdateItem: Load;
}

const BATCHES = 2;

/** The settings that switch the local stack to real Plivo: left out, so it runs its simulator. */
const REAL_PLIVO = ['PLIVO_AUTH_ID', 'PLIVO_AUTH_TOKEN', 'PLIVO_API_URL', 'PUBLIC_URL'];

export async function measureThroughput(
  input: ThroughputInput,
  progress: (line: string) => void,
): Promise<ThroughputOutput> {
  const { env, concurrency, requests, warmup } = input;
  const apiKey = 'bench-throughput-key';
  const stack = await startLocalStack({
    port: 0,
    env: {
      ...Object.fromEntries(Object.entries(env).filter(([name]) => !REAL_PLIVO.includes(name))),
      API_KEY: apiKey,
      // No call is placed here, but keep the simulator's callees from ever answering.
      SIMULATOR_SPEED: '0.001',
    },
    log: () => {},
  });
  const { dynamodbEndpoint, dynamodbCredentials } = loadConfig(env);
  const raw = createDocumentClient({ endpoint: dynamodbEndpoint, credentials: dynamodbCredentials });
  try {
    progress('throughput: creating verifications to check');
    const fixtures = await fixtureMaker(env, LOCAL_API_KEY_ID)(benchPhones(warmup + requests));
    const check = async (fixture: Fixture) => {
      const response = await fetch(`${stack.url}/v1/verifications/check`, {
        method: 'POST',
        headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ id: fixture.id, code: fixture.code }),
      });
      const body = (await response.json()) as { valid?: boolean };
      if (response.status !== 200 || body.valid !== true)
        throw new Error(`check answered ${response.status}: ${JSON.stringify(body)}`);
    };
    const update = (fixture: Fixture) =>
      raw.send(
        new UpdateCommand({
          TableName: env.TABLE_NAME,
          Key: { pk: keys.verification(fixture.id) },
          UpdateExpression: 'SET updatedAt = :now',
          ExpressionAttributeValues: { ':now': Date.now() },
        }),
      );
    const warm = fixtures.slice(0, warmup);
    await inParallel(warm, concurrency, check);
    await inParallel(warm, concurrency, update);

    const measured = fixtures.slice(warmup);
    const size = Math.ceil(measured.length / BATCHES);
    const runs = { checks: { ms: 0, latencies: [] as number[] }, raw: { ms: 0, latencies: [] as number[] } };
    const drive = async (batch: Fixture[], task: (f: Fixture) => Promise<unknown>, into: typeof runs.raw) => {
      const started = performance.now();
      await inParallel(batch, concurrency, async (fixture) => {
        const t = performance.now();
        await task(fixture);
        into.latencies.push(performance.now() - t);
      });
      into.ms += performance.now() - started;
    };
    for (let b = 0; b < BATCHES; b++) {
      const batch = measured.slice(b * size, (b + 1) * size);
      await drive(batch, check, runs.checks);
      await drive(batch, update, runs.raw);
    }
    const load = (run: typeof runs.raw): Load => ({
      requests: run.latencies.length,
      requestsPerSecond: round((run.latencies.length / run.ms) * 1000, 1),
      latencyMs: summarize(run.latencies),
    });
    const result = { concurrency, checks: load(runs.checks), rawUpdateItem: load(runs.raw) };
    progress(
      `throughput: ${result.checks.requestsPerSecond} checks/s, ${result.rawUpdateItem.requestsPerSecond} raw UpdateItem/s`,
    );
    return result;
  } finally {
    raw.destroy();
    await stack.stop();
  }
}

if (process.send) serveWorker(measureThroughput);
