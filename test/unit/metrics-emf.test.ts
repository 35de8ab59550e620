import { describe, expect, it } from 'vitest';
import { createCounters, METRICS_NAMESPACE, SERVICE_NAME } from '#platform/metrics.ts';

/** The embedded-metric-format documents written, parsed; the clock is pinned. */
function counters() {
  const lines: string[] = [];
  const metrics = createCounters(
    (line) => lines.push(line),
    () => 1_767_225_600_000,
  );
  return { metrics, documents: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('metrics (EMF lines the stack alarms on)', () => {
  it('publishes the counts without a dimension together, under namespace VoiceOtp and service', () => {
    const { metrics, documents } = counters();
    metrics.count('ChecksApproved');
    metrics.count('RateLimited');
    metrics.count('RateLimited');
    expect(documents()).toEqual([]);
    metrics.publish();
    expect(documents()).toEqual([
      {
        _aws: {
          Timestamp: 1_767_225_600_000,
          CloudWatchMetrics: [
            {
              Namespace: METRICS_NAMESPACE,
              Dimensions: [['service']],
              Metrics: [
                { Name: 'ChecksApproved', Unit: 'Count' },
                { Name: 'RateLimited', Unit: 'Count' },
              ],
            },
          ],
        },
        service: SERVICE_NAME,
        ChecksApproved: 1,
        RateLimited: 2,
      },
    ]);
    // Published once: the next request starts from nothing, and nothing counted writes nothing.
    metrics.publish();
    expect(documents()).toHaveLength(1);
  });

  it('writes a count with a dimension at once, in a document of its own', () => {
    const { metrics, documents } = counters();
    metrics.count('CallsEnded', { name: 'CallStatus', value: 'completed' });
    expect(documents()).toEqual([
      {
        _aws: {
          Timestamp: 1_767_225_600_000,
          CloudWatchMetrics: [
            {
              Namespace: 'VoiceOtp',
              Dimensions: [['service', 'CallStatus']],
              Metrics: [{ Name: 'CallsEnded', Unit: 'Count' }],
            },
          ],
        },
        service: 'voice-otp',
        CallStatus: 'completed',
        CallsEnded: 1,
      },
    ]);
    metrics.publish();
    expect(documents()).toHaveLength(1);
  });
});
