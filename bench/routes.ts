/**
 * The routes the warm phase measures, and the raw DynamoDB call each is built on: its floor.
 */
import type { ApiFunctionName } from '../lib/routes.ts';

export type FloorOperation = 'GetItem' | 'UpdateItem' | 'PutItem';

/**
 * Not a route of its own: a right check on verifications that carry no fraud-guard window, so the check
 * does only its approving UpdateItem. It measures what checks would cost if approvals were counted off the
 * request path (e.g. from a DynamoDB stream), to weigh that against the design's one round trip.
 */
export const CHECK_WITHOUT_APPROVAL_COUNTER = 'check right, approval not counted inline';

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
  | typeof DELIVERY_REPORT
  | typeof CHECK_WITHOUT_APPROVAL_COUNTER;

export const FLOOR_OF: Record<WarmRoute, FloorOperation> = {
  send: 'PutItem',
  [SMS_SEND]: 'PutItem',
  'check right': 'UpdateItem',
  'check wrong': 'UpdateItem',
  status: 'GetItem',
  cancel: 'UpdateItem',
  answer: 'GetItem',
  hangup: 'UpdateItem',
  [DELIVERY_REPORT]: 'UpdateItem',
  [CHECK_WITHOUT_APPROVAL_COUNTER]: 'UpdateItem',
};

/** The function serving each route: its memory size sets the CPU share the cost model scales for. */
export const FUNCTION_OF: Record<WarmRoute, ApiFunctionName> = {
  send: 'send',
  [SMS_SEND]: 'send',
  'check right': 'verify',
  'check wrong': 'verify',
  status: 'verify',
  cancel: 'verify',
  answer: 'answer',
  hangup: 'hangup',
  [DELIVERY_REPORT]: 'hangup',
  [CHECK_WITHOUT_APPROVAL_COUNTER]: 'verify',
};

/** DESIGN.md's round trips: "Check by id is one UpdateItem"; answer one GetItem, no write; hangup one write. */
export const DESIGN_ROUND_TRIPS: Record<WarmRoute, string> = {
  send: '— (not stated)',
  [SMS_SEND]: '— (not stated)',
  'check right': '1 (UpdateItem)',
  'check wrong': '— (not stated)',
  status: '1 (GetItem)',
  cancel: '1 (UpdateItem)',
  answer: '1 (GetItem), no write',
  hangup: '1 (UpdateItem)',
  [DELIVERY_REPORT]: '— (not stated)',
  [CHECK_WITHOUT_APPROVAL_COUNTER]: '1 (UpdateItem)',
};
