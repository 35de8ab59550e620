import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { countApproval } from '#abuse/abuse.ts';
import type { CallEnder } from '#channels/telephony.ts';
import type { AbuseSettings } from '#platform/config.ts';
import type { Logger } from '#platform/logger.ts';
import type { Counters } from '#platform/metrics.ts';
import type { CounterStore, CountOnce } from '#store/store.ts';
import type { Verification } from '#store/verification.ts';
import { type ChangeRecord, callToEnd, deriveEvents, verificationOf } from './event-derivation.ts';
import type { EventSink, OutcomeEvent } from './outcome-events.ts';
import { USAGE_MARKER_MS, type UsageCount, usageCountOf, usageCounts } from './usage.ts';

/**
 * The events function's work for each record of the table's stream: count an approval for the fraud guard
 * (off the check path) and the tenant's usage (lib/events/usage.ts), hang up the call of a verification
 * canceled or superseded while it rang, and hand the record's outcome events to every sink (EventBridge, the
 * app's webhook). Lambda may deliver a record more than once, so each step is idempotent: each count is once
 * per verification, a hang-up of a call already over changes nothing, and events keep their ids. A record
 * that throws is reported as a partial batch failure (Powertools' batch utility) and retried alone; the others
 * go on.
 */
export interface EventsDeps {
  store: CounterStore;
  /** COUNTER_SHARDS: usage items are split like the counters every send writes. */
  config: { abuse: Pick<AbuseSettings, 'counterShards'> };
  telephony: CallEnder;
  sinks: readonly EventSink[];
  clock: () => number;
  logger: Logger;
  metrics: Counters;
}

/** The stream record as the derivation reads it: images unmarshalled. Throws on an image it cannot read. */
export function changeOf(record: DynamoDBRecord): ChangeRecord {
  const image = (value: unknown) =>
    value ? unmarshall(value as Parameters<typeof unmarshall>[0], { wrapNumbers: false }) : undefined;
  const kind = record.eventName;
  if (kind !== 'INSERT' && kind !== 'MODIFY' && kind !== 'REMOVE')
    throw new Error(`Unknown stream event ${String(kind)}`);
  return {
    eventId: record.eventID ?? record.dynamodb?.SequenceNumber ?? '',
    kind,
    byTtl:
      record.userIdentity?.type === 'Service' && record.userIdentity.principalId === 'dynamodb.amazonaws.com',
    at: record.dynamodb?.ApproximateCreationDateTime && record.dynamodb.ApproximateCreationDateTime * 1000,
    old: image(record.dynamodb?.OldImage),
    new: image(record.dynamodb?.NewImage),
  };
}

export async function handleRecord(deps: EventsDeps, record: DynamoDBRecord): Promise<void> {
  const change = changeOf(record);
  const events = deriveEvents(change);
  const verification = verificationOf(change.new);
  // Side by side: the three steps are independent and each is idempotent, so a record that fails in one is
  // retried whole. All settle before the next record starts, which keeps a verification's events in order.
  const usage = { shards: deps.config.abuse.counterShards, now: deps.clock() };
  const steps = await Promise.allSettled([
    verification && events.some((event) => event.payload.type === 'verification.approved')
      ? countApprovalOnce(deps, verification, usageCountOf(verification, { approved: 1 }, usage))
      : undefined,
    ...usageCounts(change, usage).map((count) => countUsageOnce(deps, count)),
    hangUpCallOf(deps, verification, callToEnd(change)),
    events.length > 0 ? publish(deps, events) : undefined,
  ]);
  for (const step of steps) if (step.status === 'rejected') throw step.reason;
}

async function countApprovalOnce(deps: EventsDeps, verification: Verification, usage: CountOnce) {
  // The approval's own time decides nothing here: the window is the one the verification was sent in.
  const counted = await countApproval(deps.store, verification, deps.clock(), [usage]);
  if (!counted) deps.logger.info('Approval already counted', { verificationId: verification.id });
}

async function countUsageOnce(deps: EventsDeps, { marker, count }: UsageCount) {
  const counted = await deps.store.countOnce([count], marker, deps.clock() + USAGE_MARKER_MS);
  if (!counted)
    deps.logger.info('Usage already counted', { marker: marker.split('#').slice(0, 3).join('#') });
}

async function hangUpCallOf(deps: EventsDeps, verification: Verification | undefined, requestId?: string) {
  if (!verification || !requestId) return;
  const outcome = await deps.telephony.endCall({ requestId, country: verification.country });
  deps.logger.info('Call hung up', {
    verificationId: verification.id,
    reason: verification.supersededBy ? 'superseded' : 'canceled',
    outcome,
  });
  if (outcome === 'ended') deps.metrics.count('CallsHungUp');
}

async function publish(deps: EventsDeps, events: OutcomeEvent[]) {
  await Promise.all(deps.sinks.map((sink) => sink.publish(events)));
  for (const event of events)
    deps.metrics.count('OutcomeEvents', { name: 'Type', value: event.payload.type });
}

/** The events function's handler: records in order, one at a time, failures reported per record. */
export function createStreamHandler(deps: EventsDeps) {
  const processor = new BatchProcessor(EventType.DynamoDBStreams);
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    try {
      // In order: a verification's records arrive in the order they were written, and stay so.
      return await processPartialResponse(
        event,
        (record: DynamoDBRecord) => handleRecord(deps, record),
        processor,
        {
          processInParallel: false,
          // A batch whose every record failed is reported like any other (Lambda retries those records),
          // not thrown as FullBatchFailureError: at low volume a batch is one record, and the function's
          // Errors alarm must mean a crash or a timeout, not an ordinary record failure.
          throwOnFullBatchFailure: false,
        },
      );
    } finally {
      deps.metrics.publish();
    }
  };
}
