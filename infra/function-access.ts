import type { FunctionName } from '#platform/routes.ts';

export type TableAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem';

/**
 * The DynamoDB API operations a function sends: what CloudWatch's per-operation table metrics are published
 * under (the alarms watch each one). They differ from the IAM actions for transactions: IAM checks each item
 * of a TransactWriteItems as its own action (PutItem, UpdateItem...), CloudWatch counts the call itself.
 */
export type TableOperation =
  | 'GetItem'
  | 'BatchGetItem'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'TransactWriteItems';

export type SecretName = 'keyRing' | 'plivo';

/**
 * The other AWS calls a function's code makes (IAM actions): outcome events on the bus, deliveries queued and
 * their retry delays set. Their grants come with the constructs (infra/events.ts, infra/webhook-queue.ts);
 * test/infra/stack.test.ts holds them to this list, test/grants the list to what each handler sends.
 */
export type ServiceAction = 'events:PutEvents' | 'sqs:SendMessage' | 'sqs:ChangeMessageVisibility';

export interface FunctionAccess {
  /** DynamoDB actions on the one table; empty means the function gets neither access nor TABLE_NAME. */
  table: readonly TableAction[];
  /** The DynamoDB operations it sends (see TableOperation); test/grants holds both lists to its handler. */
  operations: readonly TableOperation[];
  /** Secrets it may read (secretsmanager:GetSecretValue); each also sets that secret's id variable. */
  secrets: readonly SecretName[];
  /** EventBridge and SQS calls it makes. */
  services: readonly ServiceAction[];
}

/**
 * What each function may touch: the whole least-privilege policy of the stack, in one table.
 * send: verifications and phone pointers (Get/Put/Update), rate-limit counters (Update), the fraud guard's
 * window and pause items (BatchGet), Idempotency-Key records (Put/Update, Delete after a 5xx).
 * verify: checks and cancels (Update), status and phone pointers (Get; BatchGet while a key rotation leaves
 * a phone's pointer under two pseudonyms), the fraud guard's approval counts; erasure reads a phone's pointers
 * (BatchGet) and deletes its verifications and pointers (Delete); the API key's webhook endpoint (Put, Get,
 * Delete of `WEBHOOK#<api key id>`).
 * answer: the verification's status before it speaks the code (Get), never a write.
 * hangup: call and delivery outcomes (Update); for a fallback, its claim (Update) and the abuse rules a send
 * obeys: the fraud guard's items (BatchGet) and the rate-limit counters (Update).
 * events: the fraud guard's approval count, once per verification (one transaction: a marker Put and the
 * counter's Update); it reads the table only through its stream (granted by the event source mapping), and
 * each app's webhook endpoint (Get) to queue its deliveries.
 * deliver: the app's webhook endpoint (Get) for each delivery it attempts.
 * test/grants holds each row to exactly the commands, secrets and AWS calls the function's handler used in the
 * integration suite.
 *
 * Plivo's auth token is both the API password and the HMAC key of its webhook signatures, so answer and
 * hangup read the Plivo secret too: they must check `X-Plivo-Signature-V3` before doing anything. send places
 * calls and sends SMS with it; hangup does too, once per verification, for a fallback (with the key ring, to
 * open the sealed token in its URL). events hangs up the call of a canceled or superseded verification with it.
 * verify never touches telephony and cannot read it.
 */
export const FUNCTION_ACCESS: Record<FunctionName, FunctionAccess> = {
  send: {
    table: [
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    ],
    operations: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems'],
    secrets: ['keyRing', 'plivo'],
    services: [],
  },
  verify: {
    table: [
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    ],
    operations: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
    secrets: ['keyRing'],
    services: [],
  },
  // Opens the sealed token from its URL, reads the verification's status (one GetItem) and answers XML.
  answer: {
    table: ['dynamodb:GetItem'],
    operations: ['GetItem'],
    secrets: ['keyRing', 'plivo'],
    services: [],
  },
  hangup: {
    table: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
    operations: ['BatchGetItem', 'UpdateItem'],
    secrets: ['keyRing', 'plivo'],
    services: [],
  },
  // The approval count is one TransactWriteItems (a marker Put and the counter's Update).
  events: {
    table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    operations: ['GetItem', 'TransactWriteItems'],
    secrets: ['plivo'],
    // Outcome events on the bus; deliveries queued for the deliver function.
    services: ['events:PutEvents', 'sqs:SendMessage'],
  },
  // Reads the app's endpoint (GetItem) and opens its sealed secret; never telephony, never a write.
  // A failed delivery's retry delay is its message's visibility (its queue's receive and delete are the event
  // source mapping's own).
  deliver: {
    table: ['dynamodb:GetItem'],
    operations: ['GetItem'],
    secrets: ['keyRing'],
    services: ['sqs:ChangeMessageVisibility'],
  },
};
