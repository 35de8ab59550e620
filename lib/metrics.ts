import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** CloudWatch metrics (embedded metric format, via Powertools): the names the stack's alarms watch. */
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
  // The other channel, once per verification (lib/fallback.ts): used, or refused by Reason (an error code).
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
  | 'CallsHungUp';

export interface Counters {
  /** Counts one event; `dimension` splits it (e.g. CallsEnded by CallStatus). */
  count(name: MetricName, dimension?: { name: string; value: string }): void;
  /** Flushes what this invocation counted; the HTTP wrapper calls it once per request. */
  publish(): void;
}

export function createCounters(): Counters {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  // A dimensioned count is published at once, on its own line, as Powertools' singleMetric() would; but
  // singleMetric() builds a new Metrics (and a Console) each time, about 0.3 ms, so this one is built once.
  const dimensioned = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  let stored = false;
  return {
    count(name, dimension) {
      if (!dimension) {
        metrics.addMetric(name, MetricUnit.Count, 1);
        stored = true;
        return;
      }
      dimensioned.addDimension(dimension.name, dimension.value);
      dimensioned.addMetric(name, MetricUnit.Count, 1);
      // Clears the dimension with the metric, so the next dimensioned count starts from the defaults.
      dimensioned.publishStoredMetrics();
    },
    publish: () => {
      // Publishing an empty set makes Powertools warn; most requests count nothing.
      if (stored) metrics.publishStoredMetrics();
      stored = false;
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
