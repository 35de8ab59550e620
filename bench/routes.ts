/**
 * The routes the warm phase measures, the DynamoDB round trips each is designed to make, and the raw
 * DynamoDB call each is held to: its floor.
 */
import type { BenchedFunction } from './build-bundles.ts';

/** The DynamoDB operations a route may issue, as the bench's meter names them (bench/dynamodb-meter.ts). */
export type Operation = 'GetItem' | 'PutItem' | 'UpdateItem' | 'BatchGetItem' | 'TransactWriteItems';

/** The floor's label in the tables: `GetItem`, or `2×UpdateItem` for two sequential raw UpdateItems. */
export type FloorOperation = string;

/** The send function sending the code by SMS instead of placing a call. */
export const SMS_SEND = 'send sms';

/** The send function sending the code in a WhatsApp authentication template. */
export const WHATSAPP_SEND = 'send whatsapp';

/**
 * Plivo's delivery report, served by hangup: queued, sent, delivered for an SMS (three per message), and read
 * too for a WhatsApp message; the route records each the same way (one conditional UpdateItem).
 */
export const DELIVERY_REPORT = 'delivery report';

export type WarmRoute =
  | 'send'
  | typeof SMS_SEND
  | typeof WHATSAPP_SEND
  | 'check right'
  | 'check wrong'
  | 'status'
  | 'cancel'
  | 'answer'
  | 'hangup'
  | typeof DELIVERY_REPORT;

/**
 * Each route's floor: the calls of its design (below) that it is held to, in order. The floor is the route's
 * own request for each, captured as the route issued it (same expressions, condition, ReturnValues and
 * values, ReturnConsumedCapacity as the meter asks it of both) and replayed through a bare document client
 * against a copy of the very item the route works on, made just before the phase: same shape, same size,
 * same condition outcome (bench/warm.ts). A send's floor is the transaction that stores its verification and
 * lists it under its phone, to fresh keys.
 * So a floor costs exactly what DynamoDB and the SDK cost the route, and the ratio is the handler's own work.
 */
export const FLOOR_OF: Record<WarmRoute, readonly Operation[]> = {
  send: ['TransactWriteItems'],
  [SMS_SEND]: ['TransactWriteItems'],
  [WHATSAPP_SEND]: ['TransactWriteItems'],
  // Reserve, then approve; the fraud guard's approval is counted off this path, from the table's stream.
  'check right': ['UpdateItem', 'UpdateItem'],
  'check wrong': ['UpdateItem'],
  // The full item, strongly consistent: the status view shows most of it.
  status: ['GetItem'],
  cancel: ['UpdateItem'],
  // Strongly consistent, projected to what the script needs (lib/store/dynamodb-verifications.ts getState).
  answer: ['GetItem'],
  hangup: ['UpdateItem'],
  [DELIVERY_REPORT]: ['UpdateItem'],
};

export const floorLabel = (operations: readonly Operation[]): FloorOperation => {
  const [first] = operations;
  return operations.every((op) => op === first) && operations.length > 1
    ? `${operations.length}×${first}`
    : operations.join(' + ');
};

/** The function serving each route: its memory size sets the CPU share the cost model scales for. */
export const FUNCTION_OF: Record<WarmRoute, BenchedFunction> = {
  send: 'send',
  [SMS_SEND]: 'send',
  [WHATSAPP_SEND]: 'send',
  'check right': 'verify',
  'check wrong': 'verify',
  status: 'verify',
  cancel: 'verify',
  answer: 'answer',
  hangup: 'hangup',
  [DELIVERY_REPORT]: 'hangup',
};

export interface DesignRoundTrips {
  /** DynamoDB requests one invocation of the route needs; a route measured above it misses its target. */
  count: number;
  /** What they are, in order. */
  calls: string;
}

/**
 * The round trips each route needs by design (DESIGN.md: "Check by id is one UpdateItem", answer one read and
 * no write, hangup one write), under the bench's settings (bench/environment.ts).
 */
export const DESIGN_ROUND_TRIPS: Record<WarmRoute, DesignRoundTrips> = {
  // The limits a send takes, each one conditional counter write; PHONE_MIN_GAP_SECONDS above 0 (0 in the
  // bench) adds the phone's gap, one more.
  send: {
    count: 11,
    calls:
      'BatchGetItem (fraud guard) → 6 UpdateItem (key/minute, key/day, guess budget, country/hour, ' +
      "day's call cap, phone/day) → TransactWriteItems (verification, listed under its phone) → " +
      "3 UpdateItem (fraud guard's sent count, " +
      'call request id, phone pointer)',
  },
  [SMS_SEND]: {
    count: 11,
    calls:
      "BatchGetItem (fraud guard) → 7 UpdateItem (send's six and the day's SMS cap) → " +
      "TransactWriteItems (verification, listed under its phone) → 2 UpdateItem (fraud guard's sent count, " +
      'phone pointer)',
  },
  [WHATSAPP_SEND]: {
    count: 11,
    calls:
      "BatchGetItem (fraud guard) → 7 UpdateItem (send's six and the day's WhatsApp cap) → " +
      "TransactWriteItems (verification, listed under its phone) → 2 UpdateItem (fraud guard's sent count, " +
      'phone pointer)',
  },
  'check right': { count: 2, calls: 'UpdateItem (reserve) → UpdateItem (approve)' },
  'check wrong': { count: 1, calls: 'UpdateItem (reserve)' },
  status: { count: 1, calls: 'GetItem' },
  cancel: { count: 1, calls: 'UpdateItem' },
  answer: { count: 1, calls: 'GetItem, no write' },
  hangup: { count: 1, calls: 'UpdateItem (call record)' },
  [DELIVERY_REPORT]: { count: 1, calls: 'UpdateItem (message record)' },
};
