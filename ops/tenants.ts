import { parseArgs } from 'node:util';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CHANNELS, type Channel, TENANT_SETTINGS, type TenantLimits } from '#platform/config.ts';
import { ApiError } from '#platform/errors.ts';
import { parseKeyRing } from '#platform/keyring.ts';
import { createDocumentClient } from '#store/dynamodb-client.ts';
import { tenantStore } from '#store/dynamodb-tenants.ts';
import {
  type AdminDeps,
  createTenant,
  listTenants,
  rotateTenantKey,
  setTenant,
  setTenantEnabled,
  showTenant,
  tenantUsage,
} from '#verification/tenant-admin.ts';
import { apiGatewayKeys } from './api-gateway-keys.ts';
import { OperatorError, requireOutput, stackOutputs } from './stack-outputs.ts';

/**
 * `npm run tenants -- <command> (--stack NAME | --local URL)`: the operator's tenants (API keys and their
 * settings, lib/verification/tenant-admin.ts). With --stack it runs the operations here, with the operator's
 * AWS credentials: API Gateway for the keys, the stack's table, its key ring for safe-list pseudonyms. With
 * --local it asks the running local stack's operator routes (local/operator.ts), which run the same
 * operations on its stand-in for API Gateway. Prints JSON on stdout; exit status 0 on success, 1 otherwise.
 * A key's value is printed by `create` and `rotate-key` only, once.
 */
export const USAGE = `Usage: npm run tenants -- <command> (--stack NAME | --local URL)

  create --name NAME [settings]   a new API key and its tenant; prints the key's value, once
  list                            every tenant (never a key's value)
  show ID                         one tenant
  set ID [settings]               change settings; an empty value ("") returns one to the stack's
  disable ID | enable ID          a disabled tenant's key gets 403 forbidden on every route
  rotate-key ID                   a new key value, printed once; the old one stops working
  usage ID [--from YYYY-MM-DD] [--to YYYY-MM-DD]   per UTC day, channel and country (at most 90 days)

settings: ${Object.values(TENANT_SETTINGS)
  .map((setting) => setting.flag)
  .join(' ')} --safe-list +1…,+1…
(--channels ${CHANNELS.join(',')}; --fallback true|false; --max-per-day at most the stack's; docs/tenants.md)`;

/** One command, as the operations take it. */
export type TenantsCommand =
  | { command: 'create'; name: string; settings: Record<string, string> }
  | { command: 'list' }
  | { command: 'show' | 'disable' | 'enable' | 'rotate-key'; id: string }
  | { command: 'set'; id: string; settings: Record<string, string> }
  | { command: 'usage'; id: string; from?: string | undefined; to?: string | undefined };

export type Target = { kind: 'stack'; name: string } | { kind: 'local'; url: string };

const SETTING_FLAGS = Object.fromEntries(
  Object.entries(TENANT_SETTINGS).map(([setting, { flag }]) => [flag.slice(2), setting]),
);

/** Reads the command line; a usage mistake throws OperatorError with what to do. */
export function parseCommand(argv: string[]): { target: Target; command: TenantsCommand } {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (error) {
    throw new OperatorError(`${(error as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  const [command, id, ...rest] = positionals;
  if (values.help || !command) throw new OperatorError(USAGE);
  if (rest.length > 0) throw new OperatorError(`Unexpected argument: ${rest[0]}\n\n${USAGE}`);
  if (Boolean(values.stack) === Boolean(values.local))
    throw new OperatorError(`Give exactly one of --stack NAME or --local URL.\n\n${USAGE}`);
  const target: Target = values.stack
    ? { kind: 'stack', name: values.stack }
    : { kind: 'local', url: localUrl(values.local ?? '') };
  const settings: Record<string, string> = {};
  for (const [flag, setting] of Object.entries(SETTING_FLAGS)) {
    const value = values[flag as keyof typeof values];
    if (typeof value === 'string') settings[setting] = value;
  }
  if (values['safe-list'] !== undefined) settings.safeList = values['safe-list'];
  const withSettings = command === 'create' || command === 'set';
  if (!withSettings && Object.keys(settings).length > 0)
    throw new OperatorError(`Settings are given to create and set only.\n\n${USAGE}`);
  if (command !== 'usage' && (values.from !== undefined || values.to !== undefined))
    throw new OperatorError(`--from and --to are for usage only.\n\n${USAGE}`);
  if (command !== 'create' && values.name !== undefined)
    throw new OperatorError(`--name is for create only.\n\n${USAGE}`);
  const needId = (): string => {
    if (!id) throw new OperatorError(`${command} needs a tenant ID (npm run tenants -- list).\n\n${USAGE}`);
    return id;
  };
  switch (command) {
    case 'create':
      if (id) throw new OperatorError(`create takes --name, not an ID.\n\n${USAGE}`);
      if (!values.name) throw new OperatorError(`create needs --name NAME.\n\n${USAGE}`);
      return { target, command: { command, name: values.name, settings } };
    case 'list':
      if (id) throw new OperatorError(`list takes no ID.\n\n${USAGE}`);
      return { target, command: { command } };
    case 'show':
    case 'disable':
    case 'enable':
    case 'rotate-key':
      return { target, command: { command, id: needId() } };
    case 'set':
      if (Object.keys(settings).length === 0)
        throw new OperatorError(`set needs a setting to change.\n\n${USAGE}`);
      return { target, command: { command, id: needId(), settings } };
    case 'usage':
      return { target, command: { command, id: needId(), from: values.from, to: values.to } };
    default:
      throw new OperatorError(`Unknown command: ${command}\n\n${USAGE}`);
  }
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      stack: { type: 'string' },
      local: { type: 'string' },
      name: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'safe-list': { type: 'string' },
      help: { type: 'boolean' },
      ...Object.fromEntries(Object.keys(SETTING_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
    },
  });
}

/** The local stack's operator routes answer on this machine's loopback names only. */
function localUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OperatorError(`--local must be the local stack's URL, such as http://127.0.0.1:3000.`);
  }
  if (url.protocol !== 'http:' || !['127.0.0.1', 'localhost'].includes(url.hostname))
    throw new OperatorError(
      '--local must be http://127.0.0.1:PORT or http://localhost:PORT (npm start prints it).',
    );
  return url.origin;
}

/** Runs one command on the operations in this process (the --stack backend, and tests). */
export function runWithAdmin(deps: AdminDeps, command: TenantsCommand): Promise<unknown> {
  switch (command.command) {
    case 'create':
      return createTenant(deps, { name: command.name, settings: command.settings });
    case 'list':
      return listTenants(deps);
    case 'show':
      return showTenant(deps, command.id);
    case 'set':
      return setTenant(deps, command.id, command.settings);
    case 'disable':
      return setTenantEnabled(deps, command.id, false);
    case 'enable':
      return setTenantEnabled(deps, command.id, true);
    case 'rotate-key':
      return rotateTenantKey(deps, command.id);
    case 'usage':
      return tenantUsage(deps, command.id, { from: command.from, to: command.to });
  }
}

/** Runs one command through the local stack's operator routes (local/operator.ts). */
export async function runOnLocalStack(url: string, command: TenantsCommand): Promise<unknown> {
  const base = `${url}/_operator/tenants`;
  const path = (id: string, action = '') => `${base}/${encodeURIComponent(id)}${action && `/${action}`}`;
  const request = (() => {
    switch (command.command) {
      case 'create':
        return { method: 'POST', url: base, body: { name: command.name, settings: command.settings } };
      case 'list':
        return { method: 'GET', url: base };
      case 'show':
        return { method: 'GET', url: path(command.id) };
      case 'set':
        return { method: 'PATCH', url: path(command.id), body: { settings: command.settings } };
      case 'disable':
      case 'enable':
      case 'rotate-key':
        return { method: 'POST', url: path(command.id, command.command), body: {} };
      case 'usage': {
        const query = new URLSearchParams({
          ...(command.from !== undefined && { from: command.from }),
          ...(command.to !== undefined && { to: command.to }),
        });
        return { method: 'GET', url: `${path(command.id, 'usage')}${query.size ? `?${query}` : ''}` };
      }
    }
  })();
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      ...('body' in request && {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request.body),
      }),
    });
  } catch (error) {
    throw new OperatorError(`No local stack answers at ${url} (npm start): ${(error as Error).message}`);
  }
  const body = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (!response.ok) {
    throw new ApiError(
      response.status,
      (body.error?.code ?? 'internal_error') as ApiError['code'],
      body.error?.message ?? `The local stack answered ${response.status}.`,
    );
  }
  return body;
}

/** The --stack backend: the stack's outputs, and AWS clients with the operator's credentials. */
export async function stackAdmin(
  stackName: string,
  clients: {
    apiGateway?: APIGatewayClient;
    secrets?: SecretsManagerClient;
    dynamodb?: DynamoDBDocumentClient;
  } = {},
  outputs?: Record<string, string>,
): Promise<AdminDeps> {
  const out = outputs ?? (await stackOutputs(stackName));
  const need = (key: string) => requireOutput(out, key, stackName);
  const limits: TenantLimits = {
    apiKeyMaxPerDay: Number(need('ApiKeyMaxPerDay')),
    codeTtlSeconds: Number(need('CodeTtlSeconds')),
    channels: need('Channels')
      .split(',')
      .filter((channel): channel is Channel => CHANNELS.includes(channel as Channel)),
  };
  const secrets = clients.secrets ?? new SecretsManagerClient({});
  const secretId = need('KeyRingSecretArn');
  return {
    store: tenantStore({
      db: clients.dynamodb ?? createDocumentClient(),
      tableName: need('TableName'),
      retentionSeconds: Number(out.RetentionSeconds ?? 0),
    }),
    keys: apiGatewayKeys(clients.apiGateway ?? new APIGatewayClient({}), {
      usagePlanId: need('UsagePlanId'),
      stackKeyId: need('ApiKeyId'),
    }),
    secrets: {
      keyRing: async () => {
        const secret = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
        if (!secret.SecretString) throw new OperatorError('The key-ring secret has no string value.');
        return parseKeyRing(secret.SecretString);
      },
    },
    limits,
    counterShards: Number(need('CounterShards')),
    clock: Date.now,
  };
}

/** The whole command: JSON on stdout and 0, or the reason on stderr and 1. */
export async function tenantsMain(
  argv: string[],
  io: { print: (text: string) => void; fail: (text: string) => void },
  admin: (stackName: string) => Promise<AdminDeps> = (name) => stackAdmin(name),
): Promise<0 | 1> {
  try {
    const { target, command } = parseCommand(argv);
    const result =
      target.kind === 'local'
        ? await runOnLocalStack(target.url, command)
        : await runWithAdmin(await admin(target.name), command);
    io.print(JSON.stringify(result, null, 2));
    return 0;
  } catch (error) {
    io.fail(describe(error));
    return 1;
  }
}

/** What the operator reads: our errors' code and sentence; an AWS error's name and message; never a value. */
function describe(error: unknown): string {
  if (error instanceof OperatorError) return error.message;
  if (error instanceof ApiError)
    return JSON.stringify({ error: { code: error.code, message: error.message } });
  const e = error as Error;
  return `${e.name}: ${e.message}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  tenantsMain(process.argv.slice(2), {
    print: (text) => console.log(text),
    fail: (text) => console.error(text),
  }).then((code) => process.exit(code));
}
