import type { FunctionName } from '../lib/routes.ts';
import { PRICES } from './prices.ts';

/**
 * AWS cost of one verification at a steady volume, from list prices (bench/prices.ts) and what this run
 * measured. A verification is four API requests, each one Lambda invocation: send, Plivo's answer webhook,
 * Plivo's hangup webhook, and one right check.
 */
export const VERIFICATION_REQUESTS: ReadonlyArray<{ route: string; fn: FunctionName }> = [
  { route: 'send', fn: 'send' },
  { route: 'answer', fn: 'answer' },
  { route: 'hangup', fn: 'hangup' },
  { route: 'check right', fn: 'verify' },
];

const SECONDS_PER_MONTH = 30 * 24 * 3600;
/** lib/secrets.ts: each container re-reads a secret when its cached copy is older than this. */
const SECRET_CACHE_SECONDS = 300;
/** A typical answered verification call, billed per started minute. */
const TYPICAL_CALL_SECONDS = 20;

export interface CostInput {
  verificationsPerMonth: number;
  /** Billed duration per route, ms (warm p50 here; Lambda rounds up to the next ms). */
  durationMs: Record<string, number>;
  /** The same, scaled for the CPU share Lambda gives the function's memory size (an upper estimate). */
  cpuScaledDurationMs: Record<string, number>;
  memoryMb: Record<FunctionName, number>;
  /** Capacity units per invocation of each route. */
  capacity: Record<string, { readUnits: number; writeUnits: number }>;
  secrets: Record<FunctionName, readonly string[]>;
  /** Bytes each route writes to its log (JSON log lines and metrics), per invocation. */
  logBytes: Record<string, number>;
}

export interface CostLine {
  item: string;
  basis: string;
  dollars: number;
}

export interface Cost {
  verificationsPerMonth: number;
  prices: typeof PRICES;
  lines: CostLine[];
  awsTotal: number;
  /** awsTotal with Lambda durations scaled for the CPU share of 256/512 MB. */
  awsTotalCpuScaled: number;
  /** The AWS total if Plivo's two webhooks did not go through the REST API: ways to close a cost gap. */
  alternatives: CostLine[];
  /** Costs the stack incurs that this model leaves out, with what was measured about them. */
  notPriced: Array<{ item: string; basis: string }>;
  references: CostLine[];
}

const perMillion = (count: number, price: number) => (count * price) / 1_000_000;

function lambdaCompute(input: CostInput, durations: Record<string, number>) {
  let dollars = 0;
  const parts: string[] = [];
  for (const { route, fn } of VERIFICATION_REQUESTS) {
    const ms = Math.ceil(durations[route] ?? 0);
    const gb = input.memoryMb[fn] / 1024;
    dollars += (ms / 1000) * gb * PRICES.lambdaArmPerGbSecond;
    parts.push(`${route} ${ms} ms × ${input.memoryMb[fn]} MB`);
  }
  return { dollars, basis: parts.join(', ') };
}

export function costPerVerification(input: CostInput): Cost {
  const requests = VERIFICATION_REQUESTS.length;
  const units = VERIFICATION_REQUESTS.reduce(
    (sum, { route }) => ({
      read: sum.read + (input.capacity[route]?.readUnits ?? 0),
      write: sum.write + (input.capacity[route]?.writeUnits ?? 0),
    }),
    { read: 0, write: 0 },
  );
  // At this volume every function gets a request every few seconds, so one warm container per function
  // stays up and re-reads each of its secrets once per cache period.
  const secretReadsPerMonth = Object.values(input.secrets).reduce(
    (sum, names) => sum + names.length * (SECONDS_PER_MONTH / SECRET_CACHE_SECONDS),
    0,
  );
  const secretCount = new Set(Object.values(input.secrets).flat()).size;
  const compute = lambdaCompute(input, input.durationMs);
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
  const awsTotal = lines.reduce((sum, line) => sum + line.dollars, 0);
  const scaled = lambdaCompute(input, input.cpuScaledDurationMs);
  const minutes = Math.ceil(TYPICAL_CALL_SECONDS / 60);
  const webhooks = VERIFICATION_REQUESTS.filter(({ fn }) => fn === 'answer' || fn === 'hangup').length;
  const restWebhooks = perMillion(webhooks, PRICES.apiGatewayRestPerMillionRequests);
  return {
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
        item: 'CloudWatch Logs ingestion',
        basis: `${Math.round(VERIFICATION_REQUESTS.reduce((sum, { route }) => sum + (input.logBytes[route] ?? 0), 0))} bytes of function logs and metrics per verification (measured), plus Lambda's START/END/REPORT lines and API Gateway's access logs; no price in FACTS.md`,
      },
      {
        item: 'X-Ray traces (Tracing.ACTIVE)',
        basis: `up to ${requests} traces per verification, as Lambda samples them; no price in FACTS.md`,
      },
    ],
    references: [
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
      {
        item: 'Hosted verify API (reference)',
        basis: 'per successful verification, before channel fees',
        dollars: PRICES.hostedVerifyPerVerification,
      },
    ],
  };
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;
