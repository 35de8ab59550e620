/**
 * Structured JSON logs, one line per entry. What may be logged is decided where a line is written: masked
 * numbers, ids and outcomes; never a code, a code hash, a sealed token, a key or a full phone number.
 *
 * The lines keep the shape Powertools Logger gave them (level, message, timestamp, service, sampling_rate,
 * xray_trace_id, then the entry's own keys; an Error as name, location, message, stack and its own fields),
 * so log queries and the RUNBOOK's read the same. Written here rather than by Powertools: the service only
 * writes lines at a level, and the library added about 20 KB to every bundle (docs/performance.md).
 */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

export interface Logger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

const RANK: Record<LogLevel, number> = { DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3, SILENT: 4 };

const isLevel = (value: string | undefined): value is LogLevel => value !== undefined && value in RANK;

/**
 * As Powertools chose: Lambda's own log level (advanced logging controls) first, then the one given, then
 * POWERTOOLS_LOG_LEVEL (set by the stack), then INFO.
 */
function levelOf(given: LogLevel | undefined, env: Record<string, string | undefined>): LogLevel {
  const lambda = env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase();
  if (isLevel(lambda)) return lambda;
  if (given) return given;
  const configured = env.POWERTOOLS_LOG_LEVEL?.toUpperCase();
  return isLevel(configured) ? configured : 'INFO';
}

/** Where the code threw: the first `(file:line:column)` of the stack, as `file:line`. */
function locationOf(stack: string | undefined): string {
  for (const line of stack?.split('\n') ?? []) {
    const match = /\(([^()]*?):(\d+?):(\d+?)\)\\?$/.exec(line);
    if (match) return `${match[1]}:${match[2]}`;
  }
  return '';
}

function errorFields(error: Error): Record<string, unknown> {
  const { name, message, stack, cause, ...own } = error as Error & Record<string, unknown>;
  return {
    name,
    location: locationOf(stack),
    message,
    stack,
    cause: cause instanceof Error ? errorFields(cause) : cause,
    ...own,
  };
}

/** Errors anywhere in an entry become their fields, BigInts strings; a circular reference is left out. */
function replacer() {
  const ancestors: unknown[] = [];
  return function (this: unknown, _key: string, value: unknown) {
    const replaced = value instanceof Error ? errorFields(value) : value;
    if (typeof replaced === 'bigint') return replaced.toString();
    if (typeof replaced === 'object' && replaced !== null) {
      while (ancestors.length > 0 && ancestors.at(-1) !== this) ancestors.pop();
      if (ancestors.includes(replaced)) return undefined;
      ancestors.push(replaced);
    }
    return replaced;
  };
}

export function createLogger(
  options: { serviceName?: string; logLevel?: LogLevel } = {},
  env: Record<string, string | undefined> = process.env,
): Logger {
  const threshold = RANK[levelOf(options.logLevel, env)];
  const service = options.serviceName ?? 'voice-otp';
  const write = (level: Exclude<LogLevel, 'SILENT'>, message: string, extra?: Record<string, unknown>) => {
    if (RANK[level] < threshold) return;
    const line = JSON.stringify(
      {
        level,
        message,
        timestamp: new Date().toISOString(),
        service,
        sampling_rate: 0,
        // Lambda's trace header is "Root=1-…;Parent=…;Sampled=…": the root is the trace id.
        xray_trace_id: env._X_AMZN_TRACE_ID?.split(';')[0]?.replace(/^Root=/, '') || undefined,
        ...extra,
      },
      replacer(),
    );
    // As Powertools did: DEBUG and INFO on stdout, WARN and ERROR on stderr (Lambda logs both).
    (RANK[level] >= RANK.WARN ? process.stderr : process.stdout).write(`${line}\n`);
  };
  return {
    debug: (message, extra) => write('DEBUG', message, extra),
    info: (message, extra) => write('INFO', message, extra),
    warn: (message, extra) => write('WARN', message, extra),
    error: (message, extra) => write('ERROR', message, extra),
  };
}
