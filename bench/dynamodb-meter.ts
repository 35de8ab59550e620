import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Counts every DynamoDB round trip a client makes and what it consumed. It asks for
 * ReturnConsumedCapacity TOTAL on each request (DynamoDB Local reports it like DynamoDB does) and sums
 * what comes back. A conditional write that fails is billed too but reports nothing: its write units are
 * estimated from the size of the item it was refused on (ALL_OLD), as DynamoDB bills them. A transaction's
 * units are doubled, as DynamoDB bills them and DynamoDB Local does not report them.
 */
export interface MeteredCall {
  operation: string;
  readUnits: number;
  writeUnits: number;
  /** True when the units were estimated from an item's size rather than reported. */
  estimated: boolean;
  /** The request as the route issued it (document form; the SDK does not change it): floors replay it. */
  input: Record<string, unknown>;
}

/** lib-dynamodb names its commands after the document API (UpdateCommand); DynamoDB calls it UpdateItem. */
const DOCUMENT_OPERATIONS: Record<string, string> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
};

const operationName = (commandName: string) => {
  const name = commandName.replace(/Command$/, '');
  return DOCUMENT_OPERATIONS[name] ?? name;
};

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const TRANSACTIONS = new Set(['TransactWriteItems', 'TransactGetItems']);

interface Capacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

export class DynamoDbMeter {
  #calls: MeteredCall[] = [];

  attach(client: DynamoDBDocumentClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = operationName(String(context.commandName));
        const input = args.input as Record<string, unknown>;
        input.ReturnConsumedCapacity ??= 'TOTAL';
        try {
          const result = await next(args);
          const consumed = (result.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
          const units = [consumed ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
          // DynamoDB bills a transaction's items twice (prepare and commit); DynamoDB Local reports them once.
          if (TRANSACTIONS.has(operation)) this.#record(operation, input, 2 * units, true);
          else this.#record(operation, input, units, false);
          return result;
        } catch (error) {
          const refused = error as { name?: string; Item?: Record<string, unknown> };
          if (refused.name === 'ConditionalCheckFailedException') {
            this.#record(
              operation,
              input,
              Math.max(1, Math.ceil(itemBytes(refused.Item ?? {}) / 1024)),
              true,
            );
          } else {
            this.#record(operation, input, 0, true);
          }
          throw error;
        }
      },
      { step: 'initialize', name: 'benchMeter', priority: 'high' },
    );
  }

  /** The calls since the last take. */
  take(): MeteredCall[] {
    const calls = this.#calls;
    this.#calls = [];
    return calls;
  }

  #record(operation: string, input: Record<string, unknown>, units: number, estimated: boolean) {
    const read = READS.has(operation);
    this.#calls.push({
      operation,
      input,
      readUnits: read ? units : 0,
      writeUnits: read ? 0 : units,
      estimated,
    });
  }
}

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/** DynamoDB's item size rules for a marshalled item: names plus values, nested types with their overhead. */
export function itemBytes(item: Record<string, unknown>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) bytes += utf8(name) + valueBytes(value);
  return bytes;
}

function valueBytes(value: unknown): number {
  const v = value as Record<string, unknown>;
  if (typeof v.S === 'string') return utf8(v.S);
  if (typeof v.N === 'string') return Math.ceil(v.N.replace(/[-.]/g, '').replace(/^0+/, '').length / 2) + 1;
  if (v.B instanceof Uint8Array) return v.B.length;
  if ('BOOL' in v || 'NULL' in v) return 1;
  if (v.M && typeof v.M === 'object')
    return 3 + itemBytes(v.M as Record<string, unknown>) + Object.keys(v.M).length;
  if (Array.isArray(v.L)) return 3 + v.L.reduce((sum: number, item) => sum + 1 + valueBytes(item), 0);
  return 0;
}
