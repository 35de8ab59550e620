import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type * as z from 'zod/mini';
import { ApiError, apiKeyRefused, invalidRequest } from './errors.ts';
import { findDuplicateKey } from './json.ts';
import type { Logger } from './logger.ts';
import type { Counters } from './metrics.ts';

export type HttpEvent = APIGatewayProxyEvent;
export type HttpResult = APIGatewayProxyResult;

/** API Gateway refuses larger payloads itself at 10 MB; the contract allows 16 KB. */
export const MAX_BODY_BYTES = 16 * 1024;

const SECURITY_HEADERS = {
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
} as const;

export const json = (
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResult => ({
  statusCode,
  headers: { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(body),
});

export const noContent = (): HttpResult => ({ statusCode: 204, headers: { ...SECURITY_HEADERS }, body: '' });

export const xml = (body: string): HttpResult => ({
  statusCode: 200,
  headers: { ...SECURITY_HEADERS, 'Content-Type': 'application/xml; charset=utf-8' },
  body,
});

export const errorResponse = (error: ApiError): HttpResult =>
  json(error.status, { error: { code: error.code, message: error.message } }, error.headers);

/**
 * One wrapper for every handler: typed errors become their documented 4xx/5xx; anything else is logged and
 * becomes a generic 500 that leaks nothing.
 */
export function httpHandler(
  { logger, metrics }: { logger: Logger; metrics: Counters },
  handle: (event: HttpEvent) => Promise<HttpResult>,
): (event: HttpEvent) => Promise<HttpResult> {
  return async (event) => {
    try {
      return await handle(event);
    } catch (error) {
      if (error instanceof ApiError) return errorResponse(logged(logger, error));
      logger.error('Unhandled error', { error: error as Error });
      return errorResponse(new ApiError(500, 'internal_error', 'Something went wrong on our side.'));
    } finally {
      metrics.publish();
    }
  };
}

export function header(event: Pick<HttpEvent, 'headers'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/**
 * The tenant of the API key API Gateway matched (the local stack sets the same identity): the id of the key the
 * tenant was created with. Every verification, limit, webhook and usage count is kept under it. API Gateway
 * cannot change a key's value, so a rotation makes a new key (with a new id) whose value names its tenant
 * (`tenantKeyValue`): the tenant's id, and all it owns, outlive its keys.
 */
export function apiKeyIdOf(event: HttpEvent): string {
  const identity = event.requestContext?.identity;
  if (!identity?.apiKeyId) throw apiKeyRefused();
  return tenantOfKey({ id: identity.apiKeyId, value: identity.apiKey });
}

/**
 * A key value minted for a tenant by `npm run tenants -- rotate-key`: `T<tenant id>K<40 random letters and digits>`
 * (API Gateway takes only letters and digits). Key ids are lower-case letters and digits, so the upper-case
 * T and K delimit it; values API Gateway generates are 40 characters and never match.
 */
const TENANT_KEY_VALUE = /^T([a-z0-9]{1,32})K[A-Za-z0-9]{40}$/;

export const tenantKeyValue = (tenantId: string, random40: string) => {
  const value = `T${tenantId}K${random40}`;
  if (!TENANT_KEY_VALUE.test(value)) throw new Error('A tenant id is 1-32 lower-case letters and digits');
  return value;
};

/** The tenant a gateway key belongs to: the one its value names, else the key's own id. */
export const tenantOfKey = (key: { id: string; value?: string | null | undefined }) =>
  TENANT_KEY_VALUE.exec(key.value ?? '')?.[1] ?? key.id;

/** The body's media type, lower-cased; undefined when absent or when it names a charset other than UTF-8. */
export function mediaType(event: HttpEvent): string | undefined {
  const [type, ...parameters] = (header(event, 'content-type') ?? '').split(';');
  const charset = parameters
    .map((parameter) => parameter.trim().toLowerCase())
    .find((parameter) => parameter.startsWith('charset='));
  if (charset && !['charset=utf-8', 'charset="utf-8"', 'charset=utf8'].includes(charset)) return undefined;
  return type?.trim().toLowerCase() || undefined;
}

/** The body as text: 413 above the size limit, invalid_json when it is not UTF-8. */
export function bodyText(event: HttpEvent): string {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) {
    throw new ApiError(413, 'payload_too_large', `The body is larger than ${MAX_BODY_BYTES / 1024} KB.`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError(400, 'invalid_json', 'The body is not valid UTF-8.');
  }
}

/** Parses a JSON body against a schema: 415, 413, invalid_json or invalid_request, never a 500. */
export function parseJsonBody<T>(event: HttpEvent, schema: z.ZodMiniType<T>): T {
  if (mediaType(event) !== 'application/json') {
    throw new ApiError(415, 'unsupported_media_type', 'Send the body as application/json.');
  }
  const text = bodyText(event);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'invalid_json', 'The body is not valid JSON.');
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined)
    throw invalidRequest(`The body repeats the field "${duplicate.slice(0, 40)}".`);
  const parsed = schema['~standard'].validate(value);
  if (parsed instanceof Promise) throw new Error('async schemas are not supported');
  if (parsed.issues) throw invalidRequest(describeIssue(parsed.issues[0], value));
  return parsed.value;
}

interface Issue {
  message: string;
}

/** Schemas carry their own sentences (lib/verification/requests.ts); only a non-object body needs one here. */
function describeIssue(issue: Issue | undefined, value: unknown): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'The body must be a JSON object.';
  return issue?.message ?? 'The body is not a valid request.';
}

/** For a request no route of this function serves: 405 where the path exists with other methods, else 404. */
export function routeNotServed(
  event: HttpEvent,
  resources: ReadonlyArray<{ method: string; resource: string }>,
): never {
  if (resources.some((route) => route.resource === event.resource)) {
    throw new ApiError(405, 'method_not_allowed', `${event.httpMethod} is not allowed on ${event.resource}.`);
  }
  throw new ApiError(404, 'route_not_found', 'No such route.');
}

/**
 * Runs `produce`, turning a typed error into its response (so the response can be stored and replayed),
 * logged as httpHandler logs one.
 */
export async function respond(logger: Logger, produce: () => Promise<HttpResult>): Promise<HttpResult> {
  try {
    return await produce();
  } catch (error) {
    if (error instanceof ApiError) return errorResponse(logged(logger, error));
    throw error;
  }
}

/** A request our side failed (5xx) is an error for operators; one we refused (4xx) is information. */
function logged(logger: Logger, error: ApiError): ApiError {
  if (error.status >= 500) logger.error('Request failed', { code: error.code });
  else logger.info('Request refused', { code: error.code, status: error.status });
  return error;
}
