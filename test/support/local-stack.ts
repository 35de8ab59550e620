import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';

export interface SpawnedStack {
  url: string;
  apiKey: string;
  /** Its table, in the test run's DynamoDB Local (unless it was told to start its own). */
  tableName: string;
  /** Every line the process printed so far, stdout and stderr. */
  lines: string[];
  child: ChildProcess;
  stop(): Promise<void>;
  api(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }>;
}

/**
 * How long a test that starts the local stack may take for it: start-up includes warming DynamoDB Local up
 * until it serves a burst (local/dynamodb-local.ts, at most a minute), which a busy machine slows.
 */
export const SPAWN_TIMEOUT_MS = 180_000;

/**
 * Runs the local stack the way a user does (`node local/start.ts`, which `npm start` runs) on a free port,
 * in a child process, against the test run's DynamoDB Local with a table of its own.
 */
export async function spawnLocalStack(
  env: Record<string, string> = {},
  command: string[] = [process.execPath, 'local/start.ts'],
): Promise<SpawnedStack> {
  const lines: string[] = [];
  const tableName = env.TABLE_NAME ?? `e2e-${randomUUID()}`;
  const child = spawn(command[0] ?? '', command.slice(1), {
    cwd: new URL('../..', import.meta.url).pathname,
    env: {
      ...process.env,
      PORT: '0',
      DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
      AWS_ACCESS_KEY_ID: inject('dynamodbCredentials').accessKeyId,
      AWS_SECRET_ACCESS_KEY: inject('dynamodbCredentials').secretAccessKey,
      TABLE_NAME: tableName,
      SIMULATOR_SPEED: '10',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so stopping also stops what `npm start` started.
    detached: true,
  });
  let buffer = '';
  const collect = (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  // Start-up includes warming DynamoDB Local up (local/dynamodb-local.ts), which a busy machine slows.
  const deadline = Date.now() + SPAWN_TIMEOUT_MS - 10_000;
  let url: string | undefined;
  let apiKey = '';
  while (!url) {
    const api = lines
      .map((line) => /API\s+(http:\/\/127\.0\.0\.1:\d+)\/v1\/verifications(?:, x-api-key (\S+))?/.exec(line))
      .find(Boolean);
    const key = lines.map((line) => /API key\s+(\S+)/.exec(line)).find(Boolean);
    if (api) {
      url = api[1];
      apiKey = key?.[1] ?? api[2] ?? '';
    } else if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`local stack did not start:\n${lines.join('\n')}`);
    } else {
      await sleep(50);
    }
  }
  const base = url;
  return {
    url: base,
    apiKey,
    tableName,
    lines,
    child,
    async stop() {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGTERM');
      await exited;
    },
    async api(method, path, body, headers = {}) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          'x-api-key': apiKey,
          ...(body !== undefined && { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return {
        status: response.status,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        headers: response.headers,
      };
    },
  };
}

export interface SimCallView {
  id: string;
  to: string;
  status: string;
  transcript: string;
  digits: string;
  awaitingInput: boolean;
}

/** Polls the simulator until `until` holds for the latest call to `to`. */
export async function waitForCall(
  stack: SpawnedStack,
  to: string,
  until: (call: SimCallView) => boolean,
  timeoutMs = 20_000,
): Promise<SimCallView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await stack.api('GET', '/_simulator/calls');
    const call = (body.calls as SimCallView[]).filter((c) => c.to === to).at(-1);
    if (call && until(call)) return call;
    if (Date.now() > deadline)
      throw new Error(`call to ${to} never reached the expected state: ${JSON.stringify(call)}`);
    await sleep(20);
  }
}

export const ended = (call: SimCallView) => !['ringing', 'in-progress'].includes(call.status);

/** The code's digits the phone heard, in order (each read alone between pauses, not "press 1."). */
export const heardDigits = (transcript: string) =>
  [...transcript.matchAll(/(?:^|, )([0-9])(?=[,.\s]|$)/g)].map((m) => m[1]).join('');

export interface SimMessageView {
  id: string;
  to: string;
  from: string;
  text: string | null;
  status: string;
  sentAt: string;
}

/** Polls the phone's SMS inbox until `until` holds for the latest message to `to`. */
export async function waitForMessage(
  stack: SpawnedStack,
  to: string,
  until: (message: SimMessageView) => boolean,
  timeoutMs = 20_000,
): Promise<SimMessageView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await stack.api('GET', '/_simulator/messages');
    const message = (body.messages as SimMessageView[]).filter((m) => m.to === to).at(-1);
    if (message && until(message)) return message;
    if (Date.now() > deadline)
      throw new Error(`message to ${to} never reached the expected state: ${JSON.stringify(message)}`);
    await sleep(20);
  }
}

export const settled = (message: SimMessageView) => !['queued', 'sent'].includes(message.status);
