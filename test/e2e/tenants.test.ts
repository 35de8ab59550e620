import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heardDigits, type SpawnedStack, spawnLocalStack, waitForCall } from '../support/local-stack.ts';

/**
 * `npm run tenants -- <command> --local URL` as an operator runs it, against the running local stack (`node
 * local/start.ts`, which `npm start` runs), and what each tenant's apps then get over HTTP: its app name and
 * code length, its own usage, 403 once disabled or rotated away, and nothing of another tenant's.
 */
let stack: SpawnedStack;

beforeAll(async () => {
  stack = await spawnLocalStack({ PHONE_MIN_GAP_SECONDS: '0' });
});
afterAll(async () => {
  await stack?.stop();
});

const ROOT = new URL('../..', import.meta.url).pathname;

/** The command, run as `npm run tenants` runs it (the project's Node, ops/tenants.ts). */
async function tenants(...argv: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['ops/tenants.ts', ...argv, '--local', stack.url],
      { cwd: ROOT, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
    );
    return { code: 0, stdout, stderr, json: JSON.parse(stdout) as Record<string, unknown> };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr, json: undefined };
  }
}

const withKey = (key: string) => ({ 'x-api-key': key });

describe('npm run tenants -- --local', () => {
  let acme: { id: string; apiKey: string };

  it('creates a tenant whose key works at once, with its app name and code length', async () => {
    const created = await tenants('create', '--name', 'Acme', '--app-name', 'Acme', '--code-length', '8');
    expect(created.code).toBe(0);
    acme = created.json as { id: string; apiKey: string };
    expect(created.json).toMatchObject({ name: 'Acme', settings: { appName: 'Acme', codeLength: 8 } });
    const sent = await stack.api(
      'POST',
      '/v1/verifications',
      { phone: '+14155550181' },
      withKey(acme.apiKey),
    );
    expect(sent.status).toBe(202);
    const call = await waitForCall(stack, '+14155550181', (c) => c.transcript.includes('Once again'));
    expect(call.transcript).toContain('This is Acme.');
    const code = heardDigits(call.transcript).slice(0, 8);
    expect(code).toMatch(/^\d{8}$/);
    const checked = await stack.api(
      'POST',
      '/v1/verifications/check',
      { id: sent.body.id, code },
      withKey(acme.apiKey),
    );
    expect(checked.body).toMatchObject({ valid: true, status: 'approved' });
    // The stack's own key is the default tenant: the stack's settings.
    const plain = await stack.api('POST', '/v1/verifications', { phone: '+14155550182' });
    expect(plain.status).toBe(202);
    const other = await waitForCall(stack, '+14155550182', (c) => c.transcript.includes('Once again'));
    expect(other.transcript).toContain('This is Voice OTP.');
    // One tenant never sees another's verification.
    expect((await stack.api('GET', `/v1/verifications/${sent.body.id}`)).status).toBe(404);
  });

  it('lists and shows tenants, the stack’s own key first created, never a key’s value', async () => {
    const list = await tenants('list');
    expect((list.json as unknown as Array<{ id: string }>).map((t) => t.id).sort()).toEqual(
      ['local', acme.id].sort(),
    );
    const show = await tenants('show', acme.id);
    for (const output of [list.stdout, show.stdout]) {
      expect(output).not.toContain(acme.apiKey);
      expect(output).not.toContain(stack.apiKey);
    }
  });

  it('counts usage from the stream, seconds behind, for the tenant alone', async () => {
    let usage: Record<string, unknown> | undefined;
    for (let i = 0; i < 100; i++) {
      usage = (await stack.api('GET', '/v1/usage', undefined, withKey(acme.apiKey))).body;
      if ((usage.totals as { approved: number }).approved === 1) break;
      await sleep(100);
    }
    expect(usage?.totals).toEqual({
      started: 1,
      approved: 1,
      callsPlaced: 1,
      messagesSent: 0,
      fallbacks: 0,
      conversionRate: 1,
    });
    expect((await tenants('usage', acme.id)).json).toEqual(usage);
    const mine = (await stack.api('GET', '/v1/usage')).body.totals as { started: number; approved: number };
    expect(mine).toMatchObject({ approved: 0 });
  });

  it('disable: its key gets 403 forbidden on every route, others are untouched; enable restores it', async () => {
    expect((await tenants('disable', acme.id)).json).toMatchObject({ disabled: true });
    for (const [method, path, body] of [
      ['POST', '/v1/verifications', { phone: '+14155550183' }],
      ['GET', '/v1/usage', undefined],
      ['GET', '/v1/webhook', undefined],
    ] as const) {
      const refused = await stack.api(method, path, body, withKey(acme.apiKey));
      expect(refused.status, path).toBe(403);
      expect(refused.body).toMatchObject({ error: { code: 'forbidden' } });
    }
    expect((await stack.api('POST', '/v1/verifications', { phone: '+14155550184' })).status).toBe(202);
    expect((await tenants('enable', acme.id)).json).toMatchObject({ disabled: false });
    expect((await stack.api('GET', '/v1/usage', undefined, withKey(acme.apiKey))).status).toBe(200);
  });

  it('rotate-key: the new value works as the same tenant, the old one is refused', async () => {
    const started = await stack.api(
      'POST',
      '/v1/verifications',
      { phone: '+14155550185' },
      withKey(acme.apiKey),
    );
    const rotated = await tenants('rotate-key', acme.id);
    const fresh = (rotated.json as { apiKey: string }).apiKey;
    expect(rotated.json).toEqual({ id: acme.id, apiKey: fresh });
    expect((await stack.api('GET', '/v1/usage', undefined, withKey(acme.apiKey))).status).toBe(403);
    const seen = await stack.api('GET', `/v1/verifications/${started.body.id}`, undefined, withKey(fresh));
    expect(seen.status).toBe(200);
    expect((await tenants('list')).stdout).not.toContain(fresh);
  });

  it('refuses bad settings with exit 1, naming them, and changes nothing', async () => {
    const before = (await tenants('show', acme.id)).json;
    const bad = await tenants('set', acme.id, '--channels', 'voice,fax', '--code-length', '8');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('channels (--channels)');
    expect((await tenants('show', acme.id)).json).toEqual(before);
    const unknown = await tenants('show', 'nosuchtenant');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('tenant_not_found');
  });

  it('operator routes take no request from a web page', async () => {
    const response = await fetch(`${stack.url}/_operator/tenants`, {
      headers: { origin: 'https://evil.example' },
    });
    expect(response.status).toBe(403);
    const form = await fetch(`${stack.url}/_operator/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"name":"x"}',
    });
    expect(form.status).toBe(415);
  });
});
