import { describe, expect, it } from 'vitest';
import { createCounters, METRICS_NAMESPACE } from '#platform/metrics.ts';
import { captureOutput } from '../support/output-capture.ts';

/** The embedded metric format lines the stack's alarms read (infra/monitoring.ts): namespace, dimensions, value. */
interface Emf {
  _aws: {
    CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }>;
  };
  [field: string]: unknown;
}

describe('metrics', () => {
  const output = captureOutput();
  const lines = () =>
    output
      .text()
      .split('\n')
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Emf);

  it('publishes a dimensioned count at once with its own dimension only, and plain counts once per request', () => {
    const counters = createCounters();
    counters.count('CallsEnded', { name: 'CallStatus', value: 'busy' });
    counters.count('ChecksRefused');
    counters.count('CallsEnded', { name: 'CallStatus', value: 'completed' });
    counters.count('CallsEnded');
    expect(lines()).toHaveLength(2);
    counters.publish();
    counters.publish();
    const [busy, completed, plain, ...rest] = lines();
    expect(rest).toEqual([]);
    for (const line of [busy, completed, plain])
      expect(line?._aws.CloudWatchMetrics[0]?.Namespace).toBe(METRICS_NAMESPACE);
    expect(busy?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'CallStatus']]);
    expect(busy).toMatchObject({ service: 'voice-otp', CallStatus: 'busy', CallsEnded: 1 });
    expect(completed).toMatchObject({ CallStatus: 'completed', CallsEnded: 1 });
    // The plain counts carry the service dimension alone: no CallStatus left over from the counts above.
    expect(plain?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
    expect(plain).not.toHaveProperty('CallStatus');
    expect(plain).toMatchObject({ ChecksRefused: 1, CallsEnded: 1 });
  });
});
