import { createStore } from '../lib/dynamodb-store.ts';
import { createEventBridgeClient, eventBridgeSink } from '../lib/eventbridge-sink.ts';
import { telephonyFor } from '../lib/plivo-calls.ts';
import { lambdaHandler } from '../lib/runtime.ts';
import { createStreamHandler, type EventsDeps } from '../lib/stream-events.ts';

/**
 * The table's stream (not behind API Gateway): approvals counted for the fraud guard, calls of canceled or
 * superseded verifications hung up, outcome events put on the EventBridge bus.
 */
export const createEventsHandler = (deps: EventsDeps) => createStreamHandler(deps);

export const handler = lambdaHandler((container) => {
  const { eventBusName } = container.config;
  if (!eventBusName) throw new Error('EVENT_BUS_NAME is not set');
  return createEventsHandler({
    ...container,
    store: createStore(container.config),
    telephony: telephonyFor(container),
    sinks: [eventBridgeSink(createEventBridgeClient(), eventBusName)],
  });
});
