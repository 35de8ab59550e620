import { EVENTS_BATCH_SIZE, EVENTS_BATCHING_WINDOW } from '../infra/events.ts';
import type { BenchedFunction } from './build-bundles.ts';
import { PRICES } from './prices.ts';
import { DELIVERY_REPORT, SMS_SEND, WHATSAPP_SEND } from './routes.ts';

/**
 * AWS cost of one verification at a steady volume, from list prices (bench/prices.ts) and what this run
 * measured: each API request is one Lambda invocation of a measured route; after them, the events function
 * handles the stream records the verification's item wrote (measured per record, bench/pipeline.ts), puts
 * their outcome events on EventBridge, and one webhook delivery goes through SQS to the deliverer.
 */
export interface VerificationPart {
  route: string;
  fn: BenchedFunction;
  /** Invocations of this route per verification. */
  count: number;
}

export interface VerificationKind {
  channel: 'voice' | 'sms' | 'whatsapp';
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

/** Plivo reports queued, sent, delivered and read for a WhatsApp message that arrives and is opened. */
export const REPORTS_PER_WHATSAPP = 4;

/** A WhatsApp send, its reports up to read (served by hangup), and one right check. */
export const WHATSAPP_VERIFICATION: VerificationKind = {
  channel: 'whatsapp',
  description: `WhatsApp send + ${REPORTS_PER_WHATSAPP} delivery reports + check`,
  parts: [
    { route: WHATSAPP_SEND, fn: 'send', count: 1 },
    { route: DELIVERY_REPORT, fn: 'hangup', count: REPORTS_PER_WHATSAPP },
    { route: 'check right', fn: 'verify', count: 1 },
  ],
};

/** What each kind is called in the tables. */
export const CHANNEL_NAMES: Record<VerificationKind['channel'], string> = {
  voice: 'voice',
  sms: 'SMS',
  whatsapp: 'WhatsApp',
};

const SECONDS_PER_MONTH = 30 * 24 * 3600;
/** lib/platform/secrets.ts: each container re-reads a secret when its cached copy is older than this. */
const SECRET_CACHE_SECONDS = 300;
/** A typical answered verification call, billed per started minute. */
const TYPICAL_CALL_SECONDS = 20;
/** Plivo's signed webhooks: the requests that could skip the REST API. */
const WEBHOOK_FUNCTIONS: readonly BenchedFunction[] = ['answer', 'hangup'];
type FrontDoor = 'rest' | 'http' | 'url';
/** Where the stack serves Plivo's webhooks: an HTTP API of their own (infra/webhook-api.ts, SECURITY.md). */
const WEBHOOKS_ON: FrontDoor = 'http';
/** The deliveries priced: the "one webhook delivery" (an app subscribed to approvals, say). */
const WEBHOOK_DELIVERIES = 1;
/** SQS requests per delivery: the events function's SendMessageBatch, the poller's receive and delete. */
const SQS_REQUESTS_PER_DELIVERY = 3;
/**
 * Lambda's own lines per invocation in the text log format the stack uses: START (about 70 bytes), END
 * (about 52) and REPORT (about 135 with its durations and memory). Arithmetic on their format, not measured.
 */
const LAMBDA_PLATFORM_LOG_BYTES = 257;
/**
 * One REST API access log line (AccessLogFormat.jsonWithStandardFields, infra/api.ts) with typical values:
 * an estimate from the format, not a measurement.
 */
export const ACCESS_LOG_BYTES =
  Buffer.byteLength(
    JSON.stringify({
      requestId: '4c1e2f8a-3b7d-4e6f-9a0b-1c2d3e4f5a6b',
      ip: '203.0.113.45',
      user: '-',
      caller: '-',
      requestTime: '29/Nov/2026:21:30:10 +0000',
      httpMethod: 'POST',
      resourcePath: '/v1/verifications/check',
      status: '200',
      protocol: 'HTTP/1.1',
      responseLength: '64',
    }),
  ) + 1;

/** One invocation of the events function (per stream record) or the deliverer (per delivery), measured. */
export interface StageCost {
  durationMs: number;
  cpuScaledDurationMs: number;
  readUnits: number;
  writeUnits: number;
  logBytes: number;
}

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
  /** Per channel: its verification item's stream records and the outcome events they give (measured). */
  flows: Partial<Record<VerificationKind['channel'], { records: number; events: number }>>;
  /** The events function handling one stream record. */
  eventsRecord: StageCost;
  /** The deliverer posting one webhook. */
  delivery: StageCost;
  /** Whether the stack's WAF is on (setting `waf`, off by default): it inspects every REST request. */
  waf: boolean;
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
  /** Other ways to serve or run it: what each would change. */
  alternatives: CostLine[];
  /** X-Ray, priced apart: the target is with tracing off. */
  tracing: CostLine;
  /** Costs the stack incurs that this model leaves out, with what was measured about them. */
  notPriced: Array<{ item: string; basis: string }>;
  references: CostLine[];
}

const perMillion = (count: number, price: number) => (count * price) / 1_000_000;
const times = (count: number) => (count === 1 ? '' : `${round3(count)} × `);
const gbSeconds = (ms: number, mb: number) => (Math.ceil(ms) / 1000) * (mb / 1024);

/**
 * Invocations of the events function per verification: the event source mapping gathers records for its
 * batching window, so at a steady volume one invocation carries the record that opened the window and the
 * ones that arrived during it (all verifications' records, at this volume's rate), up to the batch size.
 */
export function eventsInvocations(records: number, verificationsPerMonth: number) {
  const recordsPerSecond = (verificationsPerMonth * records) / SECONDS_PER_MONTH;
  const perBatch = Math.min(EVENTS_BATCH_SIZE, 1 + recordsPerSecond * EVENTS_BATCHING_WINDOW.toSeconds());
  return { invocations: records / perBatch, perBatch };
}

function lambdaCompute(
  kind: VerificationKind,
  input: CostInput,
  durations: Record<string, number>,
  pipelineMs: { events: number; delivery: number },
) {
  let dollars = 0;
  const parts: string[] = [];
  for (const { route, fn, count } of kind.parts) {
    const ms = Math.ceil(durations[route] ?? 0);
    dollars += count * gbSeconds(ms, input.memoryMb[fn]) * PRICES.lambdaArmPerGbSecond;
    parts.push(`${times(count)}${route} ${ms} ms × ${input.memoryMb[fn]} MB`);
  }
  const records = flowOf(kind, input).records;
  // Records share an invocation: its duration is theirs added up, so each is priced unrounded.
  dollars +=
    records * (pipelineMs.events / 1000) * (input.memoryMb.events / 1024) * PRICES.lambdaArmPerGbSecond;
  parts.push(`${times(records)}events record ${round3(pipelineMs.events)} ms × ${input.memoryMb.events} MB`);
  dollars +=
    WEBHOOK_DELIVERIES * gbSeconds(pipelineMs.delivery, input.memoryMb.deliver) * PRICES.lambdaArmPerGbSecond;
  parts.push(
    `${times(WEBHOOK_DELIVERIES)}delivery ${Math.ceil(pipelineMs.delivery)} ms × ${input.memoryMb.deliver} MB`,
  );
  return { dollars, basis: parts.join(', ') };
}

function references(kind: VerificationKind, input: CostInput): CostLine[] {
  const hosted: CostLine = {
    item: 'Hosted verify API (reference)',
    basis: 'per successful verification, before channel fees',
    dollars: PRICES.hostedVerifyPerVerification,
  };
  if (kind.channel === 'whatsapp') {
    return [
      {
        item: 'WhatsApp authentication message, India (reference)',
        basis: `Meta's rate per delivered authentication template, $${PRICES.metaWhatsAppAuthenticationIndia}, before any Plivo fee; varies by country`,
        dollars: PRICES.metaWhatsAppAuthenticationIndia,
      },
      hosted,
    ];
  }
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
  const flow = flowOf(kind, input);
  const events = eventsInvocations(flow.records, input.verificationsPerMonth);
  const requests = sum(() => 1);
  const webhooks = sum(({ fn }) => (WEBHOOK_FUNCTIONS.includes(fn) ? 1 : 0));
  const restRequests = WEBHOOKS_ON === 'rest' ? requests : requests - webhooks;
  const httpRequests = requests - restRequests;
  const invocations = requests + events.invocations + WEBHOOK_DELIVERIES;
  const pipelineUnits = (unit: 'readUnits' | 'writeUnits') =>
    flow.records * input.eventsRecord[unit] + WEBHOOK_DELIVERIES * input.delivery[unit];
  const units = {
    read: sum(({ route }) => input.capacity[route]?.readUnits ?? 0) + pipelineUnits('readUnits'),
    write: sum(({ route }) => input.capacity[route]?.writeUnits ?? 0) + pipelineUnits('writeUnits'),
  };
  // At this volume every function this kind of verification uses gets a request every few seconds, so one
  // warm container per function stays up and re-reads each of its secrets once per cache period.
  const functions: BenchedFunction[] = [...new Set(kind.parts.map(({ fn }) => fn)), 'events', 'deliver'];
  const secretReadsPerMonth = functions.reduce(
    (total, fn) => total + input.secrets[fn].length * (SECONDS_PER_MONTH / SECRET_CACHE_SECONDS),
    0,
  );
  const secretCount = new Set(functions.flatMap((fn) => input.secrets[fn])).size;
  const pipelineMs = { events: input.eventsRecord.durationMs, delivery: input.delivery.durationMs };
  const compute = lambdaCompute(kind, input, input.durationMs, pipelineMs);
  const functionLogBytes =
    sum(({ route }) => input.logBytes[route] ?? 0) +
    flow.records * input.eventsRecord.logBytes +
    WEBHOOK_DELIVERIES * input.delivery.logBytes;
  const platformLogBytes = invocations * LAMBDA_PLATFORM_LOG_BYTES;
  // Both APIs log each request they serve (function URLs would not).
  const accessLogBytes = (WEBHOOKS_ON === 'url' ? requests - webhooks : requests) * ACCESS_LOG_BYTES;
  const logBytes = functionLogBytes + platformLogBytes + accessLogBytes;
  const lines: CostLine[] = [
    {
      item: 'API Gateway REST API',
      basis: `${restRequests} requests × $${PRICES.apiGatewayRestPerMillionRequests}/M`,
      dollars: perMillion(restRequests, PRICES.apiGatewayRestPerMillionRequests),
    },
    ...(httpRequests > 0
      ? [
          {
            item: 'API Gateway HTTP API',
            basis: `${httpRequests} Plivo webhook requests × $${PRICES.apiGatewayHttpPerMillionRequests}/M`,
            dollars: perMillion(httpRequests, PRICES.apiGatewayHttpPerMillionRequests),
          },
        ]
      : []),
    ...(input.waf
      ? [
          {
            item: 'AWS WAF requests',
            basis: `${restRequests} REST requests inspected × $${PRICES.wafPerMillionRequests}/M`,
            dollars: perMillion(restRequests, PRICES.wafPerMillionRequests),
          },
        ]
      : []),
    {
      item: 'Lambda requests',
      basis: `${requests} API invocations + ${round3(events.invocations)} events (${round3(flow.records)} stream records, ${round3(events.perBatch)} per batch at this volume) + ${WEBHOOK_DELIVERIES} delivery × $${PRICES.lambdaPerMillionRequests}/M`,
      dollars: perMillion(invocations, PRICES.lambdaPerMillionRequests),
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
      item: 'EventBridge custom events',
      basis: `${round3(flow.events)} outcome events (measured) × $${PRICES.eventBridgePerMillionEvents}/M`,
      dollars: perMillion(flow.events, PRICES.eventBridgePerMillionEvents),
    },
    {
      item: 'SQS (webhook delivery)',
      basis: `${WEBHOOK_DELIVERIES} delivery × ${SQS_REQUESTS_PER_DELIVERY} requests (send, receive, delete) × $${PRICES.sqsPerMillionRequests}/M`,
      dollars: perMillion(WEBHOOK_DELIVERIES * SQS_REQUESTS_PER_DELIVERY, PRICES.sqsPerMillionRequests),
    },
    {
      item: 'CloudWatch Logs ingestion',
      basis: `${Math.round(functionLogBytes)} bytes of function logs and metrics (measured) + ${Math.round(platformLogBytes)} of Lambda's START/END/REPORT lines + ${Math.round(accessLogBytes)} of access logs (both estimated) × $${PRICES.cloudWatchLogsPerGbIngested}/GB`,
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
  const scaled = lambdaCompute(kind, input, input.cpuScaledDurationMs, {
    events: input.eventsRecord.cpuScaledDurationMs,
    delivery: input.delivery.cpuScaledDurationMs,
  });
  /** What the webhook requests cost on each front door: the API's price, the WAF's when on, the access log. */
  const webhookCost = (door: FrontDoor) =>
    door === 'url'
      ? 0
      : perMillion(
          webhooks,
          door === 'rest'
            ? PRICES.apiGatewayRestPerMillionRequests + (input.waf ? PRICES.wafPerMillionRequests : 0)
            : PRICES.apiGatewayHttpPerMillionRequests,
        ) +
        (webhooks * ACCESS_LOG_BYTES * PRICES.cloudWatchLogsPerGbIngested) / 1e9;
  const FRONT_DOORS: Record<FrontDoor, { item: string; basis: string }> = {
    rest: {
      item: 'AWS total, webhooks on the REST API',
      basis: `${webhooks} webhook requests at $${PRICES.apiGatewayRestPerMillionRequests}/M${input.waf ? ' + WAF' : ''}, beside the app's routes`,
    },
    http: {
      item: 'AWS total, webhooks on an HTTP API',
      basis: `${webhooks} webhook requests at $${PRICES.apiGatewayHttpPerMillionRequests}/M`,
    },
    url: {
      item: 'AWS total, webhooks on Lambda function URLs',
      basis: `${webhooks} webhook requests with no API Gateway charge (signature-checked, no per-route throttle)`,
    },
  };
  return {
    channel: kind.channel,
    description: kind.description,
    verificationsPerMonth: input.verificationsPerMonth,
    prices: PRICES,
    lines,
    awsTotal,
    awsTotalCpuScaled: awsTotal - compute.dollars + scaled.dollars,
    alternatives: [
      ...(Object.keys(FRONT_DOORS) as FrontDoor[])
        .filter((door) => door !== WEBHOOKS_ON)
        .map((door) => ({
          ...FRONT_DOORS[door],
          dollars: awsTotal - webhookCost(WEBHOOKS_ON) + webhookCost(door),
        })),
      {
        item: 'AWS total, no outcome events',
        basis:
          'without the EventBridge events and the webhook delivery (the events function still counts approvals)',
        dollars:
          awsTotal -
          perMillion(flow.events, PRICES.eventBridgePerMillionEvents) -
          perMillion(WEBHOOK_DELIVERIES * SQS_REQUESTS_PER_DELIVERY, PRICES.sqsPerMillionRequests) -
          perMillion(WEBHOOK_DELIVERIES, PRICES.lambdaPerMillionRequests),
      },
    ],
    tracing: {
      item: 'X-Ray traces (tracing on, the default)',
      basis: `${round3(invocations)} traced invocations (every one sampled at this volume: 1 a second and 5% beyond) × $${PRICES.xRayPerMillionTraces}/M traces recorded; \`-c tracing=false\` turns it off`,
      dollars: perMillion(invocations, PRICES.xRayPerMillionTraces),
    },
    notPriced: [
      {
        item: 'Fixed monthly costs',
        basis:
          'the WAF web ACL and its rules, CloudWatch alarms and custom metrics, the dashboard, the EventBridge bus (free) and queues (free when idle): they do not grow with verifications; their list prices are not in FACTS.md',
      },
      {
        item: "SQS pollers' empty receives",
        basis:
          "the deliverer's event source mapping long-polls an idle queue: a fixed monthly count of requests, whatever the volume",
      },
    ],
    references: references(kind, input),
  };
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

function flowOf(kind: VerificationKind, input: CostInput) {
  const flow = input.flows[kind.channel];
  if (!flow) throw new Error(`no measured stream records for ${kind.channel} verifications`);
  return flow;
}
