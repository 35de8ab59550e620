import type { BenchedFunction } from './build-bundles.ts';
import { PRICES } from './prices.ts';
import { DELIVERY_REPORT, SMS_SEND } from './routes.ts';

/**
 * AWS cost of one verification at a steady volume, from list prices (bench/prices.ts) and what this run
 * measured. Each API request is one Lambda invocation of a measured route.
 */
export interface VerificationPart {
  route: string;
  fn: BenchedFunction;
  /** Invocations of this route per verification. */
  count: number;
}

export interface VerificationKind {
  channel: 'voice' | 'sms';
  /** What one verification is made of, for the tables. */
  description: string;
  parts: readonly VerificationPart[];
}

/** Send, Plivo's answer webhook, Plivo's hangup webhook, and one right check. */
export const VOICE_VERIFICATION: VerificationKind = {
  channel: 'voice',
  description: 'send + answer + hangup + check',
  parts: [
    { route: 'send', fn: 'send', count: 1 },
    { route: 'answer', fn: 'answer', count: 1 },
    { route: 'hangup', fn: 'hangup', count: 1 },
    { route: 'check right', fn: 'verify', count: 1 },
  ],
};

/** Plivo reports queued, sent and delivered for an SMS that arrives: three webhook requests. */
export const DELIVERY_REPORTS_PER_SMS = 3;

/**
 * An SMS send, its delivery reports (served by hangup), and one right check. The check is the route the
 * voice verification's is: checking a code does not depend on the channel that carried it.
 */
export const SMS_VERIFICATION: VerificationKind = {
  channel: 'sms',
  description: `SMS send + ${DELIVERY_REPORTS_PER_SMS} delivery reports + check`,
  parts: [
    { route: SMS_SEND, fn: 'send', count: 1 },
    { route: DELIVERY_REPORT, fn: 'hangup', count: DELIVERY_REPORTS_PER_SMS },
    { route: 'check right', fn: 'verify', count: 1 },
  ],
};

const SECONDS_PER_MONTH = 30 * 24 * 3600;
/** lib/secrets.ts: each container re-reads a secret when its cached copy is older than this. */
const SECRET_CACHE_SECONDS = 300;
/** A typical answered verification call, billed per started minute. */
const TYPICAL_CALL_SECONDS = 20;
/** Plivo's signed webhooks: the requests that could skip the REST API. */
const WEBHOOK_FUNCTIONS: readonly BenchedFunction[] = ['answer', 'hangup'];

export interface CostInput {
  verificationsPerMonth: number;
  /** Billed duration per route, ms (warm p50 here; Lambda rounds up to the next ms). */
  durationMs: Record<string, number>;
  /** The same, scaled for the CPU share Lambda gives the function's memory size (an upper estimate). */
  cpuScaledDurationMs: Record<string, number>;
  memoryMb: Record<BenchedFunction, number>;
  /** Capacity units per invocation of each route. */
  capacity: Record<string, { readUnits: number; writeUnits: number }>;
  secrets: Record<BenchedFunction, readonly string[]>;
  /** Bytes each route writes to its log (JSON log lines and metrics), per invocation. */
  logBytes: Record<string, number>;
  /** Segments the verification SMS took (each is billed). */
  smsSegments: number;
}

export interface CostLine {
  item: string;
  basis: string;
  dollars: number;
}

export interface Cost {
  channel: VerificationKind['channel'];
  description: string;
  verificationsPerMonth: number;
  prices: typeof PRICES;
  lines: CostLine[];
  awsTotal: number;
  /** awsTotal with Lambda durations scaled for the CPU share of 256/512 MB. */
  awsTotalCpuScaled: number;
  /** The AWS total if Plivo's webhooks did not go through the REST API: ways to close a cost gap. */
  alternatives: CostLine[];
  /** Costs the stack incurs that this model leaves out, with what was measured about them. */
  notPriced: Array<{ item: string; basis: string }>;
  references: CostLine[];
}

const perMillion = (count: number, price: number) => (count * price) / 1_000_000;
const times = (count: number) => (count === 1 ? '' : `${count} × `);

function lambdaCompute(kind: VerificationKind, input: CostInput, durations: Record<string, number>) {
  let dollars = 0;
  const parts: string[] = [];
  for (const { route, fn, count } of kind.parts) {
    const ms = Math.ceil(durations[route] ?? 0);
    const gb = input.memoryMb[fn] / 1024;
    dollars += count * (ms / 1000) * gb * PRICES.lambdaArmPerGbSecond;
    parts.push(`${times(count)}${route} ${ms} ms × ${input.memoryMb[fn]} MB`);
  }
  return { dollars, basis: parts.join(', ') };
}

function references(kind: VerificationKind, input: CostInput): CostLine[] {
  const hosted: CostLine = {
    item: 'Hosted verify API (reference)',
    basis: 'per successful verification, before channel fees',
    dollars: PRICES.hostedVerifyPerVerification,
  };
  if (kind.channel === 'sms') {
    const segments = input.smsSegments;
    return [
      {
        item: `Plivo SMS, ${segments} segment${segments === 1 ? '' : 's'} (reference)`,
        basis: `${segments} × $${PRICES.plivoUsSmsPerSegment}/segment (US, long code), before carrier surcharges`,
        dollars: segments * PRICES.plivoUsSmsPerSegment,
      },
      hosted,
    ];
  }
  const minutes = Math.ceil(TYPICAL_CALL_SECONDS / 60);
  return [
    {
      item: `Plivo call, ${TYPICAL_CALL_SECONDS} s (reference, low)`,
      basis: `${minutes} billed minute × $${PRICES.plivoUsVoicePerMinute.low}/min (US)`,
      dollars: minutes * PRICES.plivoUsVoicePerMinute.low,
    },
    {
      item: `Plivo call, ${TYPICAL_CALL_SECONDS} s (reference, high)`,
      basis: `${minutes} billed minute × $${PRICES.plivoUsVoicePerMinute.high}/min (US)`,
      dollars: minutes * PRICES.plivoUsVoicePerMinute.high,
    },
    hosted,
  ];
}

export function costPerVerification(kind: VerificationKind, input: CostInput): Cost {
  const sum = (of: (part: VerificationPart) => number) =>
    kind.parts.reduce((total, part) => total + part.count * of(part), 0);
  const requests = sum(() => 1);
  const units = {
    read: sum(({ route }) => input.capacity[route]?.readUnits ?? 0),
    write: sum(({ route }) => input.capacity[route]?.writeUnits ?? 0),
  };
  // At this volume every function this kind of verification uses gets a request every few seconds, so one
  // warm container per function stays up and re-reads each of its secrets once per cache period.
  const functions = [...new Set(kind.parts.map(({ fn }) => fn))];
  const secretReadsPerMonth = functions.reduce(
    (total, fn) => total + input.secrets[fn].length * (SECONDS_PER_MONTH / SECRET_CACHE_SECONDS),
    0,
  );
  const secretCount = new Set(functions.flatMap((fn) => input.secrets[fn])).size;
  const compute = lambdaCompute(kind, input, input.durationMs);
  const logBytes = sum(({ route }) => input.logBytes[route] ?? 0);
  const lines: CostLine[] = [
    {
      item: 'API Gateway REST API',
      basis: `${requests} requests × $${PRICES.apiGatewayRestPerMillionRequests}/M`,
      dollars: perMillion(requests, PRICES.apiGatewayRestPerMillionRequests),
    },
    {
      item: 'Lambda requests',
      basis: `${requests} invocations × $${PRICES.lambdaPerMillionRequests}/M`,
      dollars: perMillion(requests, PRICES.lambdaPerMillionRequests),
    },
    {
      item: 'Lambda compute (arm64)',
      basis: `${compute.basis}; $${PRICES.lambdaArmPerGbSecond}/GB-s`,
      dollars: compute.dollars,
    },
    {
      item: 'DynamoDB writes (on demand)',
      basis: `${round3(units.write)} WRU × $${PRICES.dynamoDbPerMillionWriteUnits}/M`,
      dollars: perMillion(units.write, PRICES.dynamoDbPerMillionWriteUnits),
    },
    {
      item: 'DynamoDB reads (on demand)',
      basis: `${round3(units.read)} RRU × $${PRICES.dynamoDbPerMillionReadUnits}/M`,
      dollars: perMillion(units.read, PRICES.dynamoDbPerMillionReadUnits),
    },
    {
      item: 'CloudWatch Logs ingestion',
      basis: `${Math.round(logBytes)} bytes of function logs and metrics (measured) × $${PRICES.cloudWatchLogsPerGbIngested}/GB`,
      dollars: (logBytes / 1e9) * PRICES.cloudWatchLogsPerGbIngested,
    },
    {
      item: 'Secrets Manager API calls',
      basis: `${secretReadsPerMonth.toLocaleString('en-US')} reads/month (one warm container per function, ${SECRET_CACHE_SECONDS} s cache) × $${PRICES.secretsManagerPer10kCalls}/10k`,
      dollars:
        ((secretReadsPerMonth / 10_000) * PRICES.secretsManagerPer10kCalls) / input.verificationsPerMonth,
    },
    {
      item: 'Secrets Manager secrets',
      basis: `${secretCount} secrets × $${PRICES.secretsManagerPerSecretMonth}/month`,
      dollars: (secretCount * PRICES.secretsManagerPerSecretMonth) / input.verificationsPerMonth,
    },
  ];
  const awsTotal = lines.reduce((total, line) => total + line.dollars, 0);
  const scaled = lambdaCompute(kind, input, input.cpuScaledDurationMs);
  const webhooks = sum(({ fn }) => (WEBHOOK_FUNCTIONS.includes(fn) ? 1 : 0));
  const restWebhooks = perMillion(webhooks, PRICES.apiGatewayRestPerMillionRequests);
  return {
    channel: kind.channel,
    description: kind.description,
    verificationsPerMonth: input.verificationsPerMonth,
    prices: PRICES,
    lines,
    awsTotal,
    awsTotalCpuScaled: awsTotal - compute.dollars + scaled.dollars,
    alternatives: [
      {
        item: 'AWS total, webhooks on an HTTP API',
        basis: `${webhooks} webhook requests at $${PRICES.apiGatewayHttpPerMillionRequests}/M instead of $${PRICES.apiGatewayRestPerMillionRequests}/M`,
        dollars: awsTotal - restWebhooks + perMillion(webhooks, PRICES.apiGatewayHttpPerMillionRequests),
      },
      {
        item: 'AWS total, webhooks on Lambda function URLs',
        basis: `${webhooks} webhook requests with no API Gateway charge (signature-checked, as now)`,
        dollars: awsTotal - restWebhooks,
      },
    ],
    notPriced: [
      {
        item: 'X-Ray traces (Tracing.ACTIVE)',
        basis: `up to ${requests} traces per verification, as Lambda samples them, at $${PRICES.xRayPerMillionTraces}/M traces recorded: at most $${perMillion(requests, PRICES.xRayPerMillionTraces).toFixed(7)}; \`-c tracing=false\` turns it off`,
      },
      {
        item: "CloudWatch Logs beyond the functions' own lines",
        basis:
          "Lambda's START/END/REPORT lines and API Gateway's access log entry per request (not measured here)",
      },
    ],
    references: references(kind, input),
  };
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;
