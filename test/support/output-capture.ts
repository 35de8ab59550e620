import { afterEach, beforeEach } from 'vitest';

/**
 * Swallows what the process writes to stdout and stderr during each test of the calling file or describe
 * block (the functions' structured log lines), for the test to read; the run's own output stays readable.
 */
export function captureOutput(): { text(): string } {
  let captured: string[] = [];
  const originals = { out: process.stdout.write, err: process.stderr.write };
  beforeEach(() => {
    captured = [];
    const tap = (chunk: unknown) => {
      captured.push(String(chunk));
      return true;
    };
    process.stdout.write = tap as typeof process.stdout.write;
    process.stderr.write = tap as typeof process.stderr.write;
  });
  afterEach(() => {
    process.stdout.write = originals.out;
    process.stderr.write = originals.err;
  });
  return { text: () => captured.join('') };
}
