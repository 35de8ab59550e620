import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '#platform/logger.ts';

/** The lines written to each stream during a test, parsed. */
const written: { stdout: string[]; stderr: string[] } = { stdout: [], stderr: [] };
const originals = { stdout: process.stdout.write, stderr: process.stderr.write };
beforeEach(() => {
  written.stdout = [];
  written.stderr = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    process[stream].write = ((chunk: unknown) => {
      written[stream].push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
  }
});
afterEach(() => {
  process.stdout.write = originals.stdout;
  process.stderr.write = originals.stderr;
});
const lines = (stream: 'stdout' | 'stderr') =>
  written[stream].map((chunk) => {
    expect(chunk.endsWith('\n')).toBe(true);
    return JSON.parse(chunk) as Record<string, unknown>;
  });

describe('logger (the lines Powertools Logger wrote, same keys)', () => {
  it('writes one JSON line per entry: level, message, timestamp, service, sampling_rate, trace id, its own keys', () => {
    const logger = createLogger(
      {},
      { _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1' },
    );
    logger.info('Call answered', { verificationId: 'v1', attempt: 2 });
    const [line, ...rest] = lines('stdout');
    expect(rest).toEqual([]);
    expect(Object.keys(line ?? {})).toEqual([
      'level',
      'message',
      'timestamp',
      'service',
      'sampling_rate',
      'xray_trace_id',
      'verificationId',
      'attempt',
    ]);
    expect(line).toMatchObject({
      level: 'INFO',
      message: 'Call answered',
      service: 'voice-otp',
      sampling_rate: 0,
      xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793',
      verificationId: 'v1',
      attempt: 2,
    });
    expect(new Date(String(line?.timestamp)).toISOString()).toBe(line?.timestamp);
  });

  it('writes DEBUG and INFO to stdout, WARN and ERROR to stderr', () => {
    const logger = createLogger({ logLevel: 'DEBUG' }, {});
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(lines('stdout').map((l) => l.level)).toEqual(['DEBUG', 'INFO']);
    expect(lines('stderr').map((l) => l.level)).toEqual(['WARN', 'ERROR']);
    expect(lines('stdout')[0]).not.toHaveProperty('xray_trace_id');
  });

  it("writes only at or above its level: Lambda's log level, then the one given, then POWERTOOLS_LOG_LEVEL, then INFO", () => {
    const levels = (options: Parameters<typeof createLogger>[0], env: Record<string, string>) => {
      written.stdout = [];
      written.stderr = [];
      const logger = createLogger(options, env);
      logger.debug('d');
      logger.info('i');
      logger.warn('w');
      logger.error('e');
      return [...lines('stdout'), ...lines('stderr')].map((l) => l.level);
    };
    expect(levels({}, {})).toEqual(['INFO', 'WARN', 'ERROR']);
    expect(levels({}, { POWERTOOLS_LOG_LEVEL: 'warn' })).toEqual(['WARN', 'ERROR']);
    expect(levels({ logLevel: 'ERROR' }, { POWERTOOLS_LOG_LEVEL: 'DEBUG' })).toEqual(['ERROR']);
    expect(levels({ logLevel: 'SILENT' }, {})).toEqual([]);
    expect(levels({ logLevel: 'SILENT' }, { AWS_LAMBDA_LOG_LEVEL: 'WARN' })).toEqual(['WARN', 'ERROR']);
  });

  it('writes an Error as name, location, message, stack, cause and its own fields; BigInts as strings; no cycles', () => {
    const cause = new Error('socket hang up');
    const error = Object.assign(new Error('The conditional request failed', { cause }), {
      name: 'ConditionalCheckFailedException',
      $fault: 'client',
    });
    const cyclic: Record<string, unknown> = { id: 'x' };
    cyclic.self = cyclic;
    createLogger({}, {}).error('Unhandled error', { error, big: 10n, cyclic });
    const [line] = lines('stderr');
    expect(line?.error).toMatchObject({
      name: 'ConditionalCheckFailedException',
      // The first frame with a "(file:line:column)", as Powertools read it.
      location: expect.stringMatching(/:\d+$/),
      message: 'The conditional request failed',
      stack: expect.stringContaining('The conditional request failed'),
      cause: { name: 'Error', message: 'socket hang up' },
      $fault: 'client',
    });
    expect(line?.big).toBe('10');
    expect(line?.cyclic).toEqual({ id: 'x' });
  });
});
