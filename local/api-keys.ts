import { createHash, randomInt } from 'node:crypto';
import { DeleteCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tenantOfKey } from '#platform/http.ts';
import { createDocumentClient } from '#store/dynamodb-client.ts';
import { type GatewayKey, type GatewayKeys, randomAlphanumeric } from '#verification/tenant-admin.ts';
import type { DynamoDbConnection } from './dynamodb-local.ts';

/**
 * The local stand-in for API Gateway's API keys, as the gateway uses them: each key has an id (10 lower-case
 * letters and digits) and a value made once, is enabled or not, and is on the stack's usage plan. A request's
 * `x-api-key` is looked up by value; an unknown, disabled or deleted one is refused, and a known one reaches
 * the functions as the identity API Gateway gives them (`apiKeyId`, `apiKey`). Kept in the local table as
 * `LOCALKEY#<id>` items, which no function reads and the stream reader passes by (a table of their own would
 * be cleaner, but writes to a second table break DynamoDB Local's stream iterators on the first); values are
 * kept only as SHA-256, and looked up from memory, which every change passes through.
 */
export interface LocalKey extends GatewayKey {
  /** Hex SHA-256 of the value. */
  valueHash: string;
}

const PREFIX = 'LOCALKEY#';

/** The key the local stack starts with (API_KEY): the default tenant, like the stack's `ApiKeyId`. */
export const LOCAL_API_KEY_ID = 'local';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

const KEY_ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';
const newKeyId = () =>
  Array.from({ length: 10 }, () => KEY_ID_CHARS[randomInt(KEY_ID_CHARS.length)]).join('');

export class LocalApiKeys implements GatewayKeys {
  readonly #byHash = new Map<string, LocalKey>();
  readonly #byId = new Map<string, LocalKey>();
  readonly #db: ReturnType<typeof createDocumentClient>;
  readonly #table: string;

  private constructor(db: ReturnType<typeof createDocumentClient>, table: string) {
    this.#db = db;
    this.#table = table;
  }

  /** Loads the keys from the stack's table, and registers the default key with `defaultValue`. */
  static async open(connection: DynamoDbConnection, tableName: string, defaultValue: string) {
    const keys = new LocalApiKeys(createDocumentClient(connection), tableName);
    let start: Record<string, unknown> | undefined;
    do {
      const out = await keys.#db.send(
        new ScanCommand({
          TableName: tableName,
          ConsistentRead: true,
          FilterExpression: 'begins_with(pk, :prefix)',
          ExpressionAttributeValues: { ':prefix': PREFIX },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) {
        const { pk: _pk, ...key } = item;
        keys.#remember(key as LocalKey);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    // The default key takes API_KEY's value at every start; whether it is enabled stays as it was.
    const stored = keys.#byId.get(LOCAL_API_KEY_ID);
    await keys.#put({
      id: LOCAL_API_KEY_ID,
      name: stored?.name ?? 'default',
      enabled: stored?.enabled ?? true,
      tenantId: LOCAL_API_KEY_ID,
      valueHash: sha256(defaultValue),
    });
    return keys;
  }

  /** The key a request's `x-api-key` names, when it is enabled: what API Gateway puts in the identity. */
  authenticate(value: string | undefined): { apiKeyId: string; apiKey: string } | undefined {
    if (!value) return undefined;
    const key = this.#byHash.get(sha256(value));
    return key?.enabled ? { apiKeyId: key.id, apiKey: value } : undefined;
  }

  async list(): Promise<GatewayKey[]> {
    return [...this.#byId.values()].map(({ valueHash: _, ...key }) => key);
  }

  async create(input: { name: string; value?: string; enabled: boolean }) {
    const value = input.value ?? randomAlphanumeric(40);
    let id = newKeyId();
    while (this.#byId.has(id)) id = newKeyId();
    await this.#put({
      id,
      name: input.name,
      enabled: input.enabled,
      tenantId: tenantOfKey({ id, value }),
      valueHash: sha256(value),
    });
    return { id, value };
  }

  async setEnabled(id: string, enabled: boolean): Promise<void> {
    const key = this.#byId.get(id);
    if (!key) throw new Error(`No API key ${id}`);
    await this.#db.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: `${PREFIX}${id}` },
        UpdateExpression: 'SET enabled = :enabled',
        ExpressionAttributeValues: { ':enabled': enabled },
      }),
    );
    this.#remember({ ...key, enabled });
  }

  /** As on AWS: a key the tenants command made is deleted; the stack's own key (API_KEY) is disabled. */
  async retire(id: string): Promise<void> {
    if (id === LOCAL_API_KEY_ID) return this.setEnabled(id, false);
    await this.#db.send(new DeleteCommand({ TableName: this.#table, Key: { pk: `${PREFIX}${id}` } }));
    const key = this.#byId.get(id);
    this.#byId.delete(id);
    if (key) this.#byHash.delete(key.valueHash);
  }

  async #put(key: LocalKey) {
    await this.#db.send(
      new PutCommand({ TableName: this.#table, Item: { pk: `${PREFIX}${key.id}`, ...key } }),
    );
    const old = this.#byId.get(key.id);
    if (old) this.#byHash.delete(old.valueHash);
    this.#remember(key);
  }

  #remember(key: LocalKey) {
    this.#byId.set(key.id, key);
    this.#byHash.set(key.valueHash, key);
  }
}
