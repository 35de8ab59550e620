import { randomUUID } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FunctionName } from '#platform/routes.ts';

/**
 * The DynamoDB commands each function's handler really issues, recorded by SDK middleware while the
 * integration suite runs, so test/grants can hold infra/function-access.ts to exactly what the code needs
 * (DynamoDB Local has no IAM: a missing grant would only show on AWS).
 */

/** What IAM checks for a command: per item for transactions, whose own name is no IAM action. */
export function iamActions(command: string, input: unknown): string[] {
  const plain: Record<string, string> = {
    GetItemCommand: 'dynamodb:GetItem',
    BatchGetItemCommand: 'dynamodb:BatchGetItem',
    PutItemCommand: 'dynamodb:PutItem',
    UpdateItemCommand: 'dynamodb:UpdateItem',
    DeleteItemCommand: 'dynamodb:DeleteItem',
    BatchWriteItemCommand: 'dynamodb:BatchWriteItem',
    QueryCommand: 'dynamodb:Query',
    ScanCommand: 'dynamodb:Scan',
  };
  const action = plain[command];
  if (action) return [action];
  const items = ((input as { TransactItems?: Array<Record<string, unknown>> } | undefined)?.TransactItems ??
    []) as Array<Record<string, unknown>>;
  const perItem: Record<string, string> = {
    Get: 'dynamodb:GetItem',
    Put: 'dynamodb:PutItem',
    Update: 'dynamodb:UpdateItem',
    Delete: 'dynamodb:DeleteItem',
    ConditionCheck: 'dynamodb:ConditionCheckItem',
  };
  if (command === 'TransactWriteItemsCommand' || command === 'TransactGetItemsCommand') {
    return [
      ...new Set(
        items.flatMap((item) => Object.keys(item).map((kind) => perItem[kind] ?? `unknown:${kind}`)),
      ),
    ];
  }
  // Loud in the grants test: map it above before using it.
  return [`unknown:${command}`];
}

export interface CommandRecord {
  /** The test file, relative to the repository root. */
  file: string;
  function: FunctionName;
  command: string;
  actions: string[];
}

/** Where one test file appends what it saw: one JSON line per distinct record, in the run's directory. */
export class CommandLog {
  readonly #path: string;
  readonly #seen = new Set<string>();

  constructor(directory: string) {
    this.#path = join(directory, `${randomUUID()}.jsonl`);
  }

  /** A test file that built a harness: the grants test checks every integration file did. */
  harness(file: string) {
    this.#append({ harness: file });
  }

  command(record: CommandRecord) {
    this.#append(record);
  }

  /** A metric a handler counted, as EMF writes it: its name and its dimension (service is always one). */
  metric(name: string, dimension?: { name: string; value: string }) {
    this.#append({ metric: name, ...(dimension && { dimension: `${dimension.name}=${dimension.value}` }) });
  }

  #append(line: object) {
    const text = JSON.stringify(line);
    if (this.#seen.has(text)) return;
    this.#seen.add(text);
    appendFileSync(this.#path, `${text}\n`);
  }
}

/** Calls `onCommand` with each command `client` sends, before it is sent (refused ones count too). */
export function recordCommands(
  client: DynamoDBDocumentClient,
  onCommand: (command: string, input: unknown) => void,
) {
  client.middlewareStack.add(
    (next, context) => (args) => {
      onCommand(String(context.commandName), args.input);
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
}

export function readCommandLog(directory: string): {
  harnessFiles: Set<string>;
  records: CommandRecord[];
  /** `Name` or `Name Dimension=value`, for every metric counted. */
  metrics: Set<string>;
} {
  const harnessFiles = new Set<string>();
  const records: CommandRecord[] = [];
  const metrics = new Set<string>();
  for (const name of readdirSync(directory).filter((file) => file.endsWith('.jsonl'))) {
    for (const line of readFileSync(join(directory, name), 'utf8').split('\n')) {
      if (!line) continue;
      const parsed = JSON.parse(line) as
        | CommandRecord
        | { harness: string }
        | { metric: string; dimension?: string };
      if ('harness' in parsed) harnessFiles.add(parsed.harness);
      else if ('metric' in parsed)
        metrics.add(parsed.dimension ? `${parsed.metric} ${parsed.dimension}` : parsed.metric);
      else records.push(parsed);
    }
  }
  return { harnessFiles, records, metrics };
}
