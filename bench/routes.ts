/**
 * The routes the warm phase measures, and the raw DynamoDB call each is built on: its floor.
 */
import type { BenchedFunction } from './build-bundles.ts';

/** `2×UpdateItem`: two sequential raw UpdateItems, what a right check's two writes (reserve, approve) cost. */
export type FloorOperation = 'GetItem' | 'UpdateItem' | 'PutItem' | '2×UpdateItem';

/** The send function sending the code by SMS instead of placing a call. */
export const SMS_SEND = 'send sms';

/** Plivo's SMS delivery report (queued, sent, delivered: three per message), served by hangup. */
export const DELIVERY_REPORT = 'delivery report';

export type WarmRoute =
  | 'send'
  | typeof SMS_SEND
  | 'check right'
  | 'check wrong'
  | 'status'
  | 'cancel'
  | 'answer'
  | 'hangup'
  | typeof DELIVERY_REPORT;

export const FLOOR_OF: Record<WarmRoute, FloorOperation> = {
  send: 'PutItem',
  [SMS_SEND]: 'PutItem',
  // Reserve, then approve; the fraud guard's approval is counted off this path, from the table's stream.
  'check right': '2×UpdateItem',
  'check wrong': 'UpdateItem',
  status: 'GetItem',
  cancel: 'UpdateItem',
  answer: 'GetItem',
  hangup: 'UpdateItem',
  [DELIVERY_REPORT]: 'UpdateItem',
};

/** The function serving each route: its memory size sets the CPU share the cost model scales for. */
export const FUNCTION_OF: Record<WarmRoute, BenchedFunction> = {
  send: 'send',
  [SMS_SEND]: 'send',
  'check right': 'verify',
  'check wrong': 'verify',
  status: 'verify',
  cancel: 'verify',
  answer: 'answer',
  hangup: 'hangup',
  [DELIVERY_REPORT]: 'hangup',
};

/** DESIGN.md's round trips: "Check by id is one UpdateItem"; answer one GetItem, no write; hangup one write. */
export const DESIGN_ROUND_TRIPS: Record<WarmRoute, string> = {
  send: '— (not stated)',
  [SMS_SEND]: '— (not stated)',
  'check right': '2 (UpdateItem: reserve, approve)',
  'check wrong': '— (not stated)',
  status: '1 (GetItem)',
  cancel: '1 (UpdateItem)',
  answer: '1 (GetItem), no write',
  hangup: '1 (UpdateItem)',
  [DELIVERY_REPORT]: '— (not stated)',
};
