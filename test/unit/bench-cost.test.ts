import { describe, expect, it } from 'vitest';
import {
  ACCESS_LOG_BYTES,
  type Cost,
  type CostInput,
  costPerVerification,
  eventsInvocations,
  SMS_VERIFICATION,
  VOICE_VERIFICATION,
  WHATSAPP_VERIFICATION,
} from '../../bench/cost.ts';
import { PRICES } from '../../bench/prices.ts';
import {
  COST_TARGET,
  evaluateTargets,
  type Results,
  type RoundTripRow,
  type WarmRow,
  warmTargets,
} from '../../bench/results.ts';
import {
  DELIVERY_REPORT,
  DESIGN_ROUND_TRIPS,
  SMS_SEND,
  type WarmRoute,
  WHATSAPP_SEND,
} from '../../bench/routes.ts';

/** Per route: duration, write units and log bytes that tell the routes apart in the totals. */
const MEASURED: Record<string, { ms: number; writeUnits: number; logBytes: number }> = {
  send: { ms: 20, writeUnits: 9, logBytes: 500 },
  [SMS_SEND]: { ms: 30, writeUnits: 10, logBytes: 520 },
  [WHATSAPP_SEND]: { ms: 40, writeUnits: 11, logBytes: 530 },
  answer: { ms: 2, writeUnits: 0, logBytes: 190 },
  hangup: { ms: 3, writeUnits: 1, logBytes: 480 },
  [DELIVERY_REPORT]: { ms: 4, writeUnits: 1, logBytes: 280 },
  'check right': { ms: 5, writeUnits: 3, logBytes: 385 },
};

const input = (overrides: Partial<CostInput> = {}): CostInput => ({
  verificationsPerMonth: 1_000_000,
  durationMs: Object.fromEntries(Object.entries(MEASURED).map(([route, m]) => [route, m.ms])),
  cpuScaledDurationMs: Object.fromEntries(Object.entries(MEASURED).map(([route, m]) => [route, m.ms])),
  memoryMb: { send: 512, verify: 256, answer: 256, hangup: 256, events: 256, deliver: 128 },
  capacity: Object.fromEntries(
    Object.entries(MEASURED).map(([route, m]) => [route, { readUnits: 0, writeUnits: m.writeUnits }]),
  ),
  // answer's secret is its own here, so a verification that never calls answer must not pay for it.
  secrets: {
    send: ['keyring', 'plivo'],
    verify: ['keyring'],
    answer: ['answer-only'],
    hangup: ['keyring', 'plivo'],
    events: ['plivo'],
    deliver: ['keyring'],
  },
  logBytes: Object.fromEntries(Object.entries(MEASURED).map(([route, m]) => [route, m.logBytes])),
  smsSegments: 1,
  flows: {
    voice: { records: 5, events: 3 },
    sms: { records: 7, events: 5 },
    whatsapp: { records: 8, events: 6 },
  },
  eventsRecord: { durationMs: 6, cpuScaledDurationMs: 6, readUnits: 0.5, writeUnits: 0.4, logBytes: 100 },
  delivery: { durationMs: 9, cpuScaledDurationMs: 9, readUnits: 0.5, writeUnits: 0, logBytes: 200 },
  waf: true,
  ...overrides,
});

const line = (cost: Cost, item: string) => {
  const found = [...cost.lines, ...cost.alternatives, ...cost.references].find((l) =>
    l.item.startsWith(item),
  );
  if (!found) throw new Error(`no cost line ${item}`);
  return found;
};

const gbSeconds = (ms: number, mb: number) => (ms / 1000) * (mb / 1024) * PRICES.lambdaArmPerGbSecond;

describe('bench cost model', () => {
  it('prices an SMS verification as one SMS send, three delivery reports through hangup and one check, then its events and one delivery', () => {
    const sms = costPerVerification(SMS_VERIFICATION, input());
    const events = eventsInvocations(7, 1_000_000);
    expect(sms.channel).toBe('sms');
    // The SMS send and the check on the REST API (and its WAF); the three reports on the webhooks' HTTP API.
    expect(line(sms, 'API Gateway REST').dollars).toBeCloseTo((2 * 3.5) / 1e6, 12);
    expect(line(sms, 'API Gateway HTTP').dollars).toBeCloseTo((3 * 1) / 1e6, 12);
    expect(line(sms, 'AWS WAF').dollars).toBeCloseTo((2 * 0.6) / 1e6, 12);
    expect(line(sms, 'Lambda requests').dollars).toBeCloseTo(((5 + events.invocations + 1) * 0.2) / 1e6, 12);
    expect(line(sms, 'Lambda compute').dollars).toBeCloseTo(
      gbSeconds(30, 512) +
        3 * gbSeconds(4, 256) +
        gbSeconds(5, 256) +
        7 * gbSeconds(6, 256) +
        gbSeconds(9, 128),
      15,
    );
    // 10 + 3 × 1 + 3 from the requests, 7 × 0.4 from the events function's records.
    expect(line(sms, 'DynamoDB writes').basis).toMatch(/^18\.8 WRU/);
    expect(line(sms, 'DynamoDB reads').basis).toMatch(/^4 RRU/);
    expect(line(sms, 'EventBridge').dollars).toBeCloseTo(5 / 1e6, 12);
    expect(line(sms, 'SQS').dollars).toBeCloseTo((3 * 0.4) / 1e6, 12);
    // 1745 from the requests' functions, 7 × 100 from the events function, 200 from the deliverer.
    expect(line(sms, 'CloudWatch Logs').basis).toMatch(/^2645 bytes/);
    // Secrets of send, hangup, verify, events and deliver: answer is never invoked for an SMS.
    expect(line(sms, 'Secrets Manager secrets').basis).toMatch(/^2 secrets/);
    expect(line(sms, 'Secrets Manager API calls').basis).toMatch(/^60,480 reads/);
    expect(sms.tracing.dollars).toBeCloseTo(((5 + events.invocations + 1) * 5) / 1e6, 12);
    expect(line(sms, 'AWS total, no outcome events').dollars).toBeCloseTo(
      sms.awsTotal - (5 + 3 * 0.4 + 0.2) / 1e6,
      12,
    );
    expect(sms.awsTotal).toBeCloseTo(
      sms.lines.reduce((sum, l) => sum + l.dollars, 0),
      15,
    );
  });

  it("prices a WhatsApp verification as its send, four reports up to read through hangup and one check, with Meta's rate as its reference", () => {
    const whatsapp = costPerVerification(WHATSAPP_VERIFICATION, input());
    const events = eventsInvocations(8, 1_000_000);
    expect(whatsapp.channel).toBe('whatsapp');
    expect(line(whatsapp, 'API Gateway REST').dollars).toBeCloseTo((2 * 3.5) / 1e6, 12);
    expect(line(whatsapp, 'API Gateway HTTP').dollars).toBeCloseTo((4 * 1) / 1e6, 12);
    expect(line(whatsapp, 'Lambda requests').dollars).toBeCloseTo(
      ((6 + events.invocations + 1) * 0.2) / 1e6,
      12,
    );
    expect(line(whatsapp, 'Lambda compute').dollars).toBeCloseTo(
      gbSeconds(40, 512) +
        4 * gbSeconds(4, 256) +
        gbSeconds(5, 256) +
        8 * gbSeconds(6, 256) +
        gbSeconds(9, 128),
      15,
    );
    // 11 + 4 × 1 + 3 from the requests, 8 × 0.4 from the events function's records.
    expect(line(whatsapp, 'DynamoDB writes').basis).toMatch(/^21\.2 WRU/);
    expect(line(whatsapp, 'EventBridge').dollars).toBeCloseTo(6 / 1e6, 12);
    expect(line(whatsapp, 'WhatsApp authentication message').dollars).toBe(
      PRICES.metaWhatsAppAuthenticationIndia,
    );
    expect(whatsapp.references.map((r) => r.item)).not.toContainEqual(expect.stringMatching(/SMS|call/));
    expect(whatsapp.awsTotal).toBeCloseTo(
      whatsapp.lines.reduce((sum, l) => sum + l.dollars, 0),
      15,
    );
  });

  it("batches the events function's records over its window: one invocation each when quiet, up to the batch size when busy", () => {
    expect(eventsInvocations(5, 1000).invocations).toBeCloseTo(5, 1);
    const busy = eventsInvocations(5, 100_000_000_000);
    expect(busy.perBatch).toBe(10);
    expect(busy.invocations).toBeCloseTo(0.5, 12);
    // At 1M a month: 5 records a verification arrive about twice a second, so a 1 s window holds about 2.9.
    expect(eventsInvocations(5, 1_000_000).perBatch).toBeCloseTo(1 + 5_000_000 / (30 * 24 * 3600), 12);
  });

  it("takes Plivo's SMS price per segment the text took as the SMS reference figure", () => {
    const one = costPerVerification(SMS_VERIFICATION, input());
    expect(line(one, 'Plivo SMS').dollars).toBe(PRICES.plivoUsSmsPerSegment);
    const two = costPerVerification(SMS_VERIFICATION, input({ smsSegments: 2 }));
    expect(line(two, 'Plivo SMS').dollars).toBeCloseTo(2 * PRICES.plivoUsSmsPerSegment, 12);
    expect(two.references.map((r) => r.item)).not.toContainEqual(expect.stringMatching(/call/));
  });

  it('keeps the voice verification at send, answer, hangup and check, with the call as its reference', () => {
    const voice = costPerVerification(VOICE_VERIFICATION, input());
    expect(line(voice, 'API Gateway REST').dollars).toBeCloseTo((2 * 3.5) / 1e6, 12);
    expect(line(voice, 'API Gateway HTTP').dollars).toBeCloseTo((2 * 1) / 1e6, 12);
    expect(line(voice, 'DynamoDB writes').basis).toMatch(/^15 WRU/);
    expect(line(voice, 'EventBridge').dollars).toBeCloseTo(3 / 1e6, 12);
    expect(line(voice, 'Secrets Manager secrets').basis).toMatch(/^3 secrets/);
    // The stack's default: no WAF, so no line and no WAF price in the alternatives.
    const noWaf = costPerVerification(VOICE_VERIFICATION, input({ waf: false }));
    expect(noWaf.lines.map((l) => l.item)).not.toContain('AWS WAF requests');
    expect(noWaf.awsTotal).toBeCloseTo(voice.awsTotal - (2 * 0.6) / 1e6, 12);
    expect(line(voice, 'AWS total, webhooks on the REST API').dollars).toBeCloseTo(
      voice.awsTotal + (2 * (3.5 + 0.6 - 1)) / 1e6,
      12,
    );
    expect(line(voice, 'AWS total, webhooks on Lambda function URLs').dollars).toBeCloseTo(
      voice.awsTotal - (2 * 1) / 1e6 - (2 * ACCESS_LOG_BYTES * 0.5) / 1e9,
      12,
    );
    expect(line(voice, 'Plivo call, 20 s (reference, low)').dollars).toBe(0.0075);
  });
});

describe('bench targets', () => {
  const cold = (name: string, ratio: number) => ({ name, ratio, rssRatio: 1 });
  const results = (smsAwsTotal: number, smsSendRatio: number) =>
    ({
      coldStart: { rows: [cold('floor', 1), cold('send', 1.5), cold(SMS_SEND, smsSendRatio)] },
      bundles: [],
      warm: [],
      roundTrips: [],
      cost: { channel: 'voice', awsTotal: COST_TARGET / 2 },
      smsCost: { channel: 'sms', awsTotal: smsAwsTotal },
    }) as unknown as Omit<Results, 'targets'>;
  const target = (checks: ReturnType<typeof evaluateTargets>, name: string) =>
    checks.find((c) => c.target === name);

  it("holds the SMS send's cold start to the send function's target, and the SMS verification to the cost target", () => {
    const missed = evaluateTargets(results(COST_TARGET * 1.5, 1.7));
    expect(target(missed, `${SMS_SEND}: cold start (median)`)).toMatchObject({
      met: false,
      goal: '≤ 1.6× floor',
    });
    expect(target(missed, `${SMS_SEND}: peak RSS (median)`)).toMatchObject({ met: true });
    expect(target(missed, 'AWS cost per SMS verification (1M/month)')).toMatchObject({
      met: false,
      gap: expect.stringContaining('50% over'),
    });
    expect(target(missed, 'AWS cost per voice verification (1M/month)')).toMatchObject({ met: true });
    const met = evaluateTargets(results(COST_TARGET, 1.6));
    expect(target(met, `${SMS_SEND}: cold start (median)`)?.met).toBe(true);
    expect(target(met, 'AWS cost per SMS verification (1M/month)')?.met).toBe(true);
  });
});

describe('warm targets', () => {
  const warm = (route: WarmRoute, p50: number, floorP50: number) =>
    ({
      route,
      latencyMs: { p50, p99: p50 * 3 },
      floor: { operation: 'UpdateItem', latencyMs: { p50: floorP50, p99: floorP50 * 2 } },
      ratioP50: Number((p50 / floorP50).toFixed(2)),
      ratioP99: 1.5,
    }) as unknown as WarmRow;
  const trips = (route: WarmRoute, max: number): RoundTripRow => ({
    route,
    measured: max,
    max,
    operations: [],
    design: DESIGN_ROUND_TRIPS[route],
    readUnits: 0,
    writeUnits: 0,
    estimatedWriteUnits: 0,
  });
  const find = (checks: ReturnType<typeof warmTargets>, name: string) =>
    checks.find((c) => c.target === name);

  it("holds each route's p50 to its own ratio over its floor, with p99 reported beside it", () => {
    const checks = warmTargets(
      [
        warm('check right', 2.2, 2),
        warm('check wrong', 1.2, 1),
        warm('answer', 1.21, 1),
        warm('status', 1.1, 1),
        warm('hangup', 1.3, 1),
        warm('cancel', 5, 1),
      ],
      [],
    );
    expect(find(checks, 'warm check right p50')).toMatchObject({
      met: true,
      goal: '≤ 1.1× raw UpdateItem p50',
    });
    expect(find(checks, 'warm check wrong p50')?.met).toBe(true);
    expect(find(checks, 'warm answer p50')).toMatchObject({
      met: false,
      gap: expect.stringContaining('+0.01×'),
    });
    expect(find(checks, 'warm status p50')?.met).toBe(true);
    expect(find(checks, 'warm hangup p50')?.met).toBe(false);
    expect(find(checks, 'warm check right p50')?.measured).toContain('p99 1.50×');
    // No p50 target for cancel.
    expect(find(checks, 'warm cancel p50')).toBeUndefined();
  });

  it('fails a route whose invocations ever take more round trips than its design, for every route', () => {
    const routes = Object.keys(DESIGN_ROUND_TRIPS) as WarmRoute[];
    const atDesign = warmTargets(
      [],
      routes.map((route) => trips(route, DESIGN_ROUND_TRIPS[route].count)),
    );
    expect(atDesign.filter((c) => c.target.endsWith('DynamoDB round trips'))).toHaveLength(routes.length);
    expect(atDesign.every((c) => c.met)).toBe(true);
    const over = warmTargets([], [trips('check wrong', 2), trips('send', 12)]);
    expect(find(over, 'check wrong: DynamoDB round trips')).toMatchObject({ met: false, gap: '+1' });
    expect(find(over, 'send: DynamoDB round trips')).toMatchObject({ met: false, goal: '≤ 11 (design)' });
  });
});
