import type { PutEventsCommand, PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { eventBridgeSink } from '#events/eventbridge-sink.ts';
import type { OutcomeEvent } from '#events/outcome-events.ts';

const event = (n: number): OutcomeEvent => ({
  id: `evt_${String(n).padStart(26, '0')}`,
  apiKeyId: 'key-1',
  payload: {
    type: 'verification.approved',
    createdAt: '2026-11-30T10:00:00.000Z',
    data: { verificationId: `vrf_${n}`, status: 'approved', channel: 'voice', to: '+1********23' },
  },
});

/** A PutEvents client that answers each call with `answer(entries)`, recording what it was sent. */
function fakeClient(answer: (entries: number) => Array<PutEventsResultEntry>) {
  const calls: Array<
    Array<{ Source?: string; DetailType?: string; Detail?: string; EventBusName?: string }>
  > = [];
  return {
    calls,
    send: async (command: PutEventsCommand) => {
      const entries = command.input.Entries ?? [];
      calls.push(entries);
      const results = answer(entries.length);
      return { FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results };
    },
  };
}

const ok = (n: number) => Array.from({ length: n }, (_, i) => ({ EventId: `e${i}` }));

describe('EventBridge sink', () => {
  it('puts at most 10 entries per call: source voice-otp, detail-type the type, detail the payload', async () => {
    const client = fakeClient(ok);
    const events = Array.from({ length: 23 }, (_, i) => event(i));
    await eventBridgeSink(client as never, 'bus-1').publish(events);
    expect(client.calls.map((entries) => entries.length)).toEqual([10, 10, 3]);
    expect(client.calls.flat()[22]).toEqual({
      EventBusName: 'bus-1',
      Source: 'voice-otp',
      DetailType: 'verification.approved',
      Detail: JSON.stringify(events[22]?.payload),
      Time: new Date('2026-11-30T10:00:00.000Z'),
    });
    // The routing key never leaves: only the payload is the detail.
    expect(client.calls.flat().some((entry) => entry.Detail?.includes('key-1'))).toBe(false);
  });

  it('puts again only the entries EventBridge refused', async () => {
    let round = 0;
    const client = fakeClient((n) =>
      round++ === 0 ? ok(n).map((r, i) => (i === 1 ? { ErrorCode: 'InternalFailure' } : r)) : ok(n),
    );
    await eventBridgeSink(client as never, 'bus-1').publish([event(0), event(1), event(2)]);
    expect(
      client.calls.map((entries) => entries.map((e) => JSON.parse(e.Detail ?? '{}').data.verificationId)),
    ).toEqual([['vrf_0', 'vrf_1', 'vrf_2'], ['vrf_1']]);
  });

  it('fails the record when entries stay refused (FailedEntryCount), naming only error codes', async () => {
    const client = fakeClient((n) =>
      ok(n).map(() => ({ ErrorCode: 'ThrottlingException', ErrorMessage: 'x' })),
    );
    await expect(eventBridgeSink(client as never, 'bus-1').publish([event(0)])).rejects.toThrow(
      'EventBridge refused 1 event(s): ThrottlingException',
    );
    expect(client.calls).toHaveLength(3);
  });
});
