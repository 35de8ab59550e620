import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Cold starts: a fresh Node process per sample (the same Node as the benchmark) loads a bundle and handles
 * one real event against DynamoDB Local (and the Plivo simulator, for send). Samples of all targets are
 * interleaved, so a noisy neighbour slows every target alike rather than one of them.
 */
export interface ColdTarget {
  name: string;
  /** The bundle's index.mjs; undefined measures Node alone. */
  bundle: string | undefined;
  env: Record<string, string>;
  /** One fresh event per sample. */
  event: (sample: number) => unknown;
  /** Refuses a result that is not the happy path, so refusals are never measured as cold starts. */
  accept: (result: { statusCode?: number; body?: string } | null) => boolean;
}

export interface ColdSample {
  /** From spawn() in this process to the handler's result arriving here. */
  totalMs: number;
  /** Inside the child: from process start until the loader ran (Node's own start-up). */
  bootMs: number;
  /** Importing the bundle: Lambda's "Init Duration", as the handlers build their clients lazily. */
  importMs: number;
  /** The first invocation: builds config, clients and keys, then does the work. */
  invokeMs: number;
  peakRssMiB: number;
}

const CHILD = fileURLToPath(new URL('./cold-start-child.mjs', import.meta.url));

export async function coldSample(target: ColdTarget, sample: number): Promise<ColdSample> {
  const event = JSON.stringify(target.event(sample));
  const started = performance.now();
  const child = spawn(process.execPath, [CHILD, target.bundle ? pathToFileURL(target.bundle).href : '-'], {
    env: { ...target.env, BENCH_EVENT: event },
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-10_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = await firstLine(child.stdio[3] as Readable);
  const arrived = performance.now();
  const code = await exited;
  if (code !== 0 || !line) throw new Error(`${target.name} cold start exited ${code}: ${stderr}`);
  const reported = JSON.parse(line) as {
    bootMs: number;
    importMs: number;
    invokeMs: number;
    maxRssKiB: number;
    result: { statusCode?: number; body?: string } | null;
  };
  if (!target.accept(reported.result)) {
    throw new Error(`${target.name} cold start answered ${JSON.stringify(reported.result).slice(0, 300)}`);
  }
  return {
    totalMs: arrived - started,
    bootMs: reported.bootMs,
    importMs: reported.importMs,
    invokeMs: reported.invokeMs,
    peakRssMiB: reported.maxRssKiB / 1024,
  };
}

function firstLine(stream: Readable): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
    });
    stream.once('end', () => resolve(text));
  });
}

/**
 * `samples` cold starts of every target, in rounds, each round starting with the next target. Events are
 * numbered from `firstSample`, so a second series gets fresh ones.
 */
export async function measureColdStarts(
  targets: readonly ColdTarget[],
  samples: number,
  options: { firstSample: number; label: string; progress: (line: string) => void },
): Promise<Record<string, ColdSample[]>> {
  const results: Record<string, ColdSample[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
  for (let round = 0; round < samples; round++) {
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(round + i) % targets.length] as ColdTarget;
      results[target.name]?.push(await coldSample(target, options.firstSample + round));
    }
    if ((round + 1) % 5 === 0 || round + 1 === samples)
      options.progress(`${options.label}: ${round + 1}/${samples} rounds`);
  }
  return results;
}
