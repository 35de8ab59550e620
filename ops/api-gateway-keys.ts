import {
  type APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  GetApiKeysCommand,
  GetUsagePlanKeysCommand,
  UpdateApiKeyCommand,
} from '@aws-sdk/client-api-gateway';
import { tenantOfKey } from '#platform/http.ts';
import type { GatewayKey, GatewayKeys } from '#verification/tenant-admin.ts';

/**
 * The tenants' API keys on API Gateway, with the operator's credentials: keys on the stack's usage plan
 * (output UsagePlanId) are its tenants. API Gateway cannot change a key's value, so a rotation creates a key
 * whose value names its tenant and retires the old one: deleted, or, for the stack's own key (output
 * ApiKeyId, which CloudFormation owns), disabled.
 */
export function apiGatewayKeys(
  client: APIGatewayClient,
  stack: { usagePlanId: string; stackKeyId: string },
): GatewayKeys {
  async function list(): Promise<GatewayKey[]> {
    const planKeys: Array<{ id: string; value: string; name: string }> = [];
    let position: string | undefined;
    do {
      const page = await client.send(
        new GetUsagePlanKeysCommand({ usagePlanId: stack.usagePlanId, limit: 500, position }),
      );
      for (const item of page.items ?? [])
        if (item.id && item.type === 'API_KEY')
          planKeys.push({ id: item.id, value: item.value ?? '', name: item.name ?? '' });
      position = page.position;
    } while (position);
    // The plan's keys say nothing of whether each is enabled: the account's keys do.
    const enabled = new Map<string, boolean>();
    let keysPosition: string | undefined;
    do {
      const page = await client.send(
        new GetApiKeysCommand({ limit: 500, position: keysPosition, includeValues: false }),
      );
      for (const item of page.items ?? []) if (item.id) enabled.set(item.id, item.enabled === true);
      keysPosition = page.position;
    } while (keysPosition);
    return planKeys.map((key) => ({
      id: key.id,
      name: key.name,
      enabled: enabled.get(key.id) ?? false,
      tenantId: tenantOfKey(key),
    }));
  }

  async function create(input: { name: string; value?: string; enabled: boolean }) {
    const created = await client.send(
      new CreateApiKeyCommand({
        name: input.name,
        description: 'voice-otp tenant (npm run tenants)',
        enabled: input.enabled,
        ...(input.value && { value: input.value }),
      }),
    );
    if (!created.id || !created.value) throw new Error('API Gateway created a key without an id or value');
    const id = created.id;
    try {
      await client.send(
        new CreateUsagePlanKeyCommand({ usagePlanId: stack.usagePlanId, keyId: id, keyType: 'API_KEY' }),
      );
    } catch (error) {
      // A key off the plan works nowhere: do not leave it behind.
      await client.send(new DeleteApiKeyCommand({ apiKey: id })).catch(() => undefined);
      throw error;
    }
    return { id, value: created.value };
  }

  async function setEnabled(id: string, enabled: boolean) {
    await client.send(
      new UpdateApiKeyCommand({
        apiKey: id,
        patchOperations: [{ op: 'replace', path: '/enabled', value: String(enabled) }],
      }),
    );
  }

  async function retire(id: string) {
    if (id === stack.stackKeyId) return setEnabled(id, false);
    // Deleting a key takes it off every usage plan too.
    await client.send(new DeleteApiKeyCommand({ apiKey: id }));
  }

  return { list, create, setEnabled, retire };
}
