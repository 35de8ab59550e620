import { describe, expect, it } from 'vitest';
import { resealWebhookSecrets } from '#events/app-webhooks.ts';
import { openWebhookSecret, sealWebhookSecret } from '#events/webhook-secret.ts';
import { parseKeyRing } from '#platform/keyring.ts';
import type { WebhookSecretStore } from '#store/store.ts';

/** Phase 2 of a key rotation reseals the endpoints' secrets (ops/rotate-keys.ts): what it does with each. */
const ring = parseKeyRing(JSON.stringify({ current: 'k2', k1: 'a'.repeat(43), k2: 'b'.repeat(43) }));
const gone = parseKeyRing(JSON.stringify({ current: 'k0', k0: 'c'.repeat(43) })).current;
const k1 = ring.get('k1');
if (!k1) throw new Error('no k1');

/** A table of sealed secrets; `moving` names keys a PUT replaces between the scan and the rewrite. */
function table(items: Record<string, string>, moving: string[] = []) {
  const writes: Array<[string, string]> = [];
  const store: WebhookSecretStore = {
    listSealedSecrets: async () =>
      Object.entries(items).map(([apiKeyId, sealedSecret]) => ({ apiKeyId, sealedSecret })),
    replaceSealedSecret: async (apiKeyId, from, to) => {
      if (moving.includes(apiKeyId) || items[apiKeyId] !== from) return false;
      items[apiKeyId] = to;
      writes.push([apiKeyId, to]);
      return true;
    },
  };
  return { store, items, writes };
}

describe('resealing the app webhook secrets under the current key', () => {
  it('reseals each one under an older key, leaves the current ones, and names those that open under none', async () => {
    const t = table({
      'key-old': sealWebhookSecret(k1, 'key-old', 'whsec_old'),
      'key-current': sealWebhookSecret(ring.current, 'key-current', 'whsec_current'),
      'key-gone': sealWebhookSecret(gone, 'key-gone', 'whsec_gone'),
    });
    const before = { ...t.items };
    expect(await resealWebhookSecrets(t.store, ring)).toEqual({
      resealed: ['key-old'],
      current: 1,
      unreadable: ['key-gone'],
    });
    expect(t.items['key-old']?.startsWith('k2.')).toBe(true);
    expect(openWebhookSecret(ring, 'key-old', t.items['key-old'] ?? '')).toBe('whsec_old');
    expect(t.items['key-current']).toBe(before['key-current']);
    expect(t.items['key-gone']).toBe(before['key-gone']);
  });

  it('counts one a PUT replaced meanwhile as current, never writing over it', async () => {
    const t = table({ 'key-moving': sealWebhookSecret(k1, 'key-moving', 'whsec_x') }, ['key-moving']);
    expect(await resealWebhookSecrets(t.store, ring)).toEqual({ resealed: [], current: 1, unreadable: [] });
    expect(t.writes).toEqual([]);
  });

  it('finds nothing to do in an empty table', async () => {
    expect(await resealWebhookSecrets(table({}).store, ring)).toEqual({
      resealed: [],
      current: 0,
      unreadable: [],
    });
  });
});
