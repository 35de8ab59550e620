import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import type { Exchange } from '../../local/exchange-log.ts';

export interface SpawnedStack {
  url: string;
  apiKey: string;
  /** Its table, in the test run's DynamoDB Local (unless it was told to start its own). */
  tableName: string;
  /** Every line the process printed so far, stdout and stderr. */
  lines: string[];
  child: ChildProcess;
  /**
   * Holds every answer the API gave since the last call (to the suite, to the browser, to the simulator's Plivo
   * webhooks) to openapi.yaml; throws on the first that breaks it. Run after each test (contract-setup.ts) and
   * by stop(): no e2e test can skip it.
   */
  checkContract(): Promise<void>;
  /** How many answers checkContract held to the contract so far. */
  readonly exchangesChecked: number;
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
  // The contract's validators compile while the stack starts (see contract.ts warmUp).
  const contractReady = import('./contract.ts').then((contract) => contract.warmUp());
  const lines: string[] = [];
  const tableName = env.TABLE_NAME ?? `e2e-${randomUUID()}`;
  const exchangeDir = mkdtempSync(join(tmpdir(), 'voice-otp-exchanges-'));
  const exchangeLog = join(exchangeDir, 'exchanges.ndjson');
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
      EXCHANGE_LOG: exchangeLog,
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
  // 'close': exited, and everything it printed has been read.
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));

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
      rmSync(exchangeDir, { recursive: true, force: true });
      throw new Error(`local stack did not start:\n${lines.join('\n')}`);
    } else {
      await sleep(50);
    }
  }
  await contractReady;
  const base = url;
  let read = 0;
  let checked = 0;
  /** Answers on /v1/ paths that were checked: each one the stack logged must be among them. */
  let checkedApi = 0;
  const stack: SpawnedStack = {
    url: base,
    apiKey,
    tableName,
    lines,
    child,
    get exchangesChecked() {
      return checked;
    },
    async checkContract() {
      let text = '';
      try {
        text = readFileSync(exchangeLog).subarray(read).toString('utf8');
      } catch {
        return; // Nothing answered yet.
      }
      // Whole lines only: the stack may be writing the next one.
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      read += Buffer.byteLength(complete);
      const { contractViolations, describeExchange } = await import('./contract.ts');
      const broken: string[] = [];
      for (const line of complete.split('\n').filter(Boolean)) {
        const exchange = JSON.parse(line) as Exchange;
        const problems = await contractViolations(exchange);
        checked++;
        // The stack logs every answer on /v1/ but a 421 (a foreign Host is refused before anything is logged).
        if (exchange.path.startsWith('/v1/') && exchange.status !== 421) checkedApi++;
        if (problems.length > 0) broken.push(`${describeExchange(exchange)}\n    ${problems.join('\n    ')}`);
      }
      if (broken.length > 0) {
        throw new Error(`${broken.length} answer(s) broke openapi.yaml:\n  ${broken.join('\n  ')}`);
      }
    },
    async stop() {
      liveStacks.delete(stack);
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGTERM');
      await exited;
      try {
        await stack.checkContract();
      } finally {
        rmSync(exchangeDir, { recursive: true, force: true });
      }
      // The stack logs every answer it gives on /v1/ ("POST /v1/verifications → 202 (12 ms)"): had any
      // escaped the exchange log, the contract check would have passed on less than everything.
      const logged = lines.filter((line) => /^[A-Z]+ \/v1\/\S* → \d{3} \(\d+ ms\)$/.test(line)).length;
      if (logged !== checkedApi) {
        throw new Error(`The stack logged ${logged} answers on /v1/, the contract check saw ${checkedApi}.`);
      }
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
  liveStacks.add(stack);
  return stack;
}

/** The stacks this test file started and has not stopped yet (test/support/contract-setup.ts checks them). */
export const liveStacks = new Set<SpawnedStack>();

export interface SimCallView {
  id: string;
  to: string;
  status: string;
  startedAt: string;
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
  type: 'sms' | 'whatsapp';
  to: string;
  from: string;
  text: string | null;
  status: string;
  sentAt: string;
}

/** Polls the phone's inbox (SMS and WhatsApp) until `until` holds for the latest message to `to`. */
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
