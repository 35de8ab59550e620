import { tenantLimits } from '#platform/config.ts';
import { createDocumentClient } from '#store/dynamodb-client.ts';
import { dynamoDbStore } from '#store/dynamodb-store.ts';
import {
  type AdminDeps,
  createTenant,
  type SettingsInput,
  setTenant,
  setTenantEnabled,
} from '#verification/tenant-admin.ts';
import { LocalApiKeys } from '../../local/api-keys.ts';
import { apiEvent, type Harness, parse } from './harness.ts';

/**
 * Tenants for the integration tests: the operator's operations (lib/verification/tenant-admin.ts) over the
 * local stack's API keys, on the harness's table, with a store of their own (the operator's writes are not a
 * function's, so test/grants does not count them).
 */
export interface Tenants {
  admin: AdminDeps;
  keys: LocalApiKeys;
  /** A new tenant with these settings (as the command line gives them): its id and key value. */
  create(settings?: SettingsInput, name?: string): Promise<{ id: string; apiKey: string }>;
  set(id: string, settings: SettingsInput): Promise<unknown>;
  disable(id: string): Promise<unknown>;
  /** A send with a tenant's key, as API Gateway hands it over once it matched the key. */
  send(tenant: { id: string }, body: Record<string, unknown>): ReturnType<Harness['send']>;
}

export async function tenantsFor(h: Harness): Promise<Tenants> {
  const keys = await LocalApiKeys.open(h.connection, h.tableName, 'test-default-key-value-0000');
  const admin: AdminDeps = {
    store: dynamoDbStore({
      db: createDocumentClient(h.connection),
      tableName: h.tableName,
      retentionSeconds: h.config.retentionSeconds,
    }),
    keys,
    secrets: h.depsFor('verify').secrets,
    limits: tenantLimits(h.config),
    counterShards: h.config.abuse.counterShards,
    clock: h.clock.read,
  };
  return {
    admin,
    keys,
    async create(settings = {}, name = 'Tenant') {
      const created = await createTenant(admin, { name, settings });
      return { id: created.id, apiKey: created.apiKey };
    },
    set: (id, settings) => setTenant(admin, id, settings),
    disable: (id) => setTenantEnabled(admin, id, false),
    send: (tenant, body) =>
      h.send(apiEvent({ method: 'POST', resource: '/v1/verifications', body, apiKeyId: tenant.id })),
  };
}

/** The body of a 202, or a thrown error naming what came back instead. */
export async function accepted(response: Promise<{ statusCode: number; body: string }>) {
  const result = await response;
  if (result.statusCode !== 202) throw new Error(`send answered ${result.statusCode}: ${result.body}`);
  return parse(result);
}
