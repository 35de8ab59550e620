/**
 * The routes the warm phase measures, and the raw DynamoDB call each is built on: its floor.
 */
export type FloorOperation = 'GetItem' | 'UpdateItem' | 'PutItem';

/**
 * Not a route of its own: a right check on verifications that carry no fraud-guard window, so the check
 * does only its approving UpdateItem. It measures what checks would cost if approvals were counted off the
 * request path (e.g. from a DynamoDB stream), to weigh that against the design's one round trip.
 */
export const CHECK_WITHOUT_APPROVAL_COUNTER = 'check right, approval not counted inline';

export type WarmRoute =
  | 'send'
  | 'check right'
  | 'check wrong'
  | 'status'
  | 'cancel'
  | 'answer'
  | 'hangup'
  | typeof CHECK_WITHOUT_APPROVAL_COUNTER;

export const FLOOR_OF: Record<WarmRoute, FloorOperation> = {
  send: 'PutItem',
  'check right': 'UpdateItem',
  'check wrong': 'UpdateItem',
  status: 'GetItem',
  cancel: 'UpdateItem',
  answer: 'GetItem',
  hangup: 'UpdateItem',
  [CHECK_WITHOUT_APPROVAL_COUNTER]: 'UpdateItem',
};

/** DESIGN.md's round trips: "Check by id is one UpdateItem"; answer one GetItem, no write; hangup one write. */
export const DESIGN_ROUND_TRIPS: Record<WarmRoute, string> = {
  send: '— (not stated)',
  'check right': '1 (UpdateItem)',
  'check wrong': '— (not stated)',
  status: '1 (GetItem)',
  cancel: '1 (UpdateItem)',
  answer: '1 (GetItem), no write',
  hangup: '1 (UpdateItem)',
  [CHECK_WITHOUT_APPROVAL_COUNTER]: '1 (UpdateItem)',
};
