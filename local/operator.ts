import type { IncomingMessage } from 'node:http';
import { ApiError, invalidRequest } from '#platform/errors.ts';
import { errorResponse, type HttpResult, json } from '#platform/http.ts';
import { findDuplicateKey } from '#platform/json.ts';
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

/**
 * The operator routes only the local stack serves (on 127.0.0.1, never deployed): what `npm run tenants --
 * <command> --local URL` calls, each a thin shell over lib/verification/tenant-admin.ts, the operations the
 * command runs itself against AWS. A browser page cannot use them: a request with an `Origin` (any page's
 * fetch or form) is refused, and a write needs `Content-Type: application/json`, which no cross-site form can
 * send without a preflight this server never answers.
 */
export const OPERATOR_PREFIX = '/_operator/tenants';

export async function operatorRoute(
  deps: AdminDeps,
  request: IncomingMessage,
  method: string,
  url: URL,
  body: Buffer,
): Promise<HttpResult | undefined> {
  const path = url.pathname;
  if (path !== OPERATOR_PREFIX && !path.startsWith(`${OPERATOR_PREFIX}/`)) return undefined;
  try {
    return await serve(deps, request, method, url, body);
  } catch (error) {
    if (error instanceof ApiError) return errorResponse(error);
    throw error;
  }
}

async function serve(
  deps: AdminDeps,
  request: IncomingMessage,
  method: string,
  url: URL,
  body: Buffer,
): Promise<HttpResult> {
  if (request.headers.origin !== undefined || (request.headers['sec-fetch-site'] ?? 'none') !== 'none')
    throw new ApiError(403, 'forbidden', 'Operator routes take no requests from web pages.');
  const [id, action, extra] = url.pathname.slice(OPERATOR_PREFIX.length + 1).split('/');
  if (extra !== undefined) throw new ApiError(404, 'route_not_found', 'No such route.');
  const input = method === 'GET' || method === 'HEAD' ? {} : jsonBody(request, body);
  const route = `${method} ${id === undefined || id === '' ? '' : ':id'}${action ? `/${action}` : ''}`;
  const fields = FIELDS[route] ?? [];
  const unknown = Object.keys(input).filter((field) => !fields.includes(field));
  if (unknown.length > 0) throw invalidRequest(`Unknown field: ${JSON.stringify(unknown[0]?.slice(0, 40))}.`);
  const tenantId = decodeURIComponent(id ?? '');
  switch (route) {
    case 'GET ':
      return json(200, await listTenants(deps));
    case 'POST ':
      return json(201, await createTenant(deps, { name: input.name, settings: settingsOf(input) }));
    case 'GET :id':
      return json(200, await showTenant(deps, tenantId));
    case 'PATCH :id':
      return json(200, await setTenant(deps, tenantId, settingsOf(input) ?? {}));
    case 'POST :id/disable':
      return json(200, await setTenantEnabled(deps, tenantId, false));
    case 'POST :id/enable':
      return json(200, await setTenantEnabled(deps, tenantId, true));
    case 'POST :id/rotate-key':
      return json(200, await rotateTenantKey(deps, tenantId));
    case 'GET :id/usage': {
      const from = url.searchParams.get('from') ?? undefined;
      const to = url.searchParams.get('to') ?? undefined;
      return json(200, await tenantUsage(deps, tenantId, { from, to }));
    }
    default:
      throw new ApiError(404, 'route_not_found', 'No such route.');
  }
}

/** The body fields each write takes; the others take an empty object. */
const FIELDS: Record<string, readonly string[]> = {
  'POST ': ['name', 'settings'],
  'PATCH :id': ['settings'],
};

function jsonBody(request: IncomingMessage, body: Buffer): Record<string, unknown> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json')
    throw new ApiError(415, 'unsupported_media_type', 'Send the body as application/json.');
  const text = body.toString('utf8');
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new ApiError(400, 'invalid_json', 'The body is not valid JSON.');
  }
  if (findDuplicateKey(text) !== undefined) throw invalidRequest('The body repeats a field.');
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidRequest('The body must be a JSON object.');
  return value as Record<string, unknown>;
}

function settingsOf(input: Record<string, unknown>): Record<string, unknown> | undefined {
  const { settings } = input;
  if (settings === undefined) return undefined;
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings))
    throw invalidRequest('settings must be a JSON object of setting names and values.');
  return settings as Record<string, unknown>;
}
