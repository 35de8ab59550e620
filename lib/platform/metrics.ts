import type { Channel } from './config.ts';

/**
 * CloudWatch metrics in the embedded metric format (EMF): one JSON line on stdout per flush, which Lambda's
 * log ingestion turns into metrics. Written here rather than by Powertools Metrics: counting is all the
 * service does, and the library added about 17 KB (with its commons) to every bundle. These are the names the
 * stack's alarms watch (namespace VoiceOtp, dimension service=voice-otp, statistic Sum).
 */
export const METRICS_NAMESPACE = 'VoiceOtp';
export const SERVICE_NAME = 'voice-otp';

export type MetricName =
  | 'VerificationsStarted'
  | 'CallsPlaced'
  | 'CallsNotPlaced'
  | 'CallsEnded'
  // SMS: accepted by Plivo, refused or unreachable, and final delivery reports (once per message).
  | 'MessagesSent'
  | 'MessagesNotSent'
  | 'MessagesDelivered'
  | 'MessagesFailed'
  // WhatsApp: accepted by Plivo, refused or unreachable, and its delivery, read and failure reports.
  | 'WhatsAppSent'
  | 'WhatsAppNotSent'
  | 'WhatsAppDelivered'
  | 'WhatsAppRead'
  | 'WhatsAppFailed'
  // The other channel, once per verification (lib/verification/fallback.ts): used, or refused by Reason (an error code).
  | 'FallbacksSent'
  | 'FallbacksRefused'
  | 'ChecksApproved'
  | 'ChecksRefused'
  | 'RateLimited'
  // The service's daily call or SMS cap refused a send (503): every send is refused until UTC midnight.
  | 'DailyCapReached'
  | 'FraudGuardPaused'
  // The events function: outcome events handed to the sinks (by Type), calls a cancel or resend hung up.
  | 'OutcomeEvents'
  | 'CallsHungUp'
  // The deliver function: an app webhook's sealed secret opens under no key of the ring (RUNBOOK).
  | 'WebhookSecretUnreadable';

/** What a send on each channel counts: the code went out, or the provider refused it or could not be reached. */
export const SEND_METRICS: Record<Channel, { sent: MetricName; notSent: MetricName }> = {
  voice: { sent: 'CallsPlaced', notSent: 'CallsNotPlaced' },
  sms: { sent: 'MessagesSent', notSent: 'MessagesNotSent' },
  whatsapp: { sent: 'WhatsAppSent', notSent: 'WhatsAppNotSent' },
};

export interface Counters {
  /** Counts one event; `dimension` splits it (e.g. CallsEnded by CallStatus). */
  count(name: MetricName, dimension?: { name: string; value: string }): void;
  /** Flushes what this invocation counted; the HTTP wrapper calls it once per request. */
  publish(): void;
}

type Dimension = { name: string; value: string };

/** One EMF document: `counts` under the service's dimension, plus `dimension` when given. */
export function emfLine(now: number, counts: ReadonlyMap<string, number>, dimension?: Dimension): string {
  return JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [dimension ? ['service', dimension.name] : ['service']],
          Metrics: [...counts.keys()].map((name) => ({ Name: name, Unit: 'Count' })),
        },
      ],
    },
    service: SERVICE_NAME,
    ...(dimension && { [dimension.name]: dimension.value }),
    ...Object.fromEntries(counts),
  });
}

/**
 * Counts without a dimension wait for `publish` and go out together; a count with a dimension goes out at
 * once in a document of its own, as its dimension set differs.
 */
export function createCounters(
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  clock: () => number = Date.now,
): Counters {
  let stored = new Map<string, number>();
  return {
    count(name, dimension) {
      if (dimension) write(emfLine(clock(), new Map([[name, 1]]), dimension));
      else stored.set(name, (stored.get(name) ?? 0) + 1);
    },
    publish: () => {
      // Most requests count nothing: no empty document.
      if (stored.size > 0) write(emfLine(clock(), stored));
      stored = new Map();
    },
  };
}

/** For tests and tools that want to see what was counted. */
export function recordingCounters(): Counters & { counted: Array<{ name: MetricName; dimension?: string }> } {
  const counted: Array<{ name: MetricName; dimension?: string }> = [];
  return {
    counted,
    count: (name, dimension) => counted.push({ name, ...(dimension && { dimension: dimension.value }) }),
    publish: () => {},
  };
}
