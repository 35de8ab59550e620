import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ApiError } from '#platform/errors.ts';
import { errorResponse } from '#platform/http.ts';
import { MEDIA_TYPES, ROUTES, type Route } from '#platform/routes.ts';

/**
 * What API Gateway does for us in AWS, done locally: match the route, turn the HTTP request into a REST
 * proxy event, and answer by itself where the gateway would (unknown route, wrong method, missing key,
 * oversized payload) in the contract's error shape.
 */
export const GATEWAY_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export type RouteMatch =
  | { kind: 'route'; route: Route; pathParameters: Record<string, string> | null }
  | { kind: 'method_not_allowed'; routes: Route[] }
  | { kind: 'bad_path' }
  | { kind: 'not_found' };

const compiled = ROUTES.map((route) => ({
  route,
  names: [...route.resource.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? ''),
  pattern: new RegExp(`^${route.resource.replace(/\{\w+\}/g, '([^/]+)')}$`),
  static: !route.resource.includes('{'),
}));

export function matchRoute(method: string, path: string): RouteMatch {
  const matching = compiled.filter((c) => c.pattern.test(path));
  // Like API Gateway, a static resource wins over a template (…/check is not the verification "check").
  const staticOnes = matching.filter((c) => c.static);
  const candidates = staticOnes.length > 0 ? staticOnes : matching;
  if (candidates.length === 0) return { kind: 'not_found' };
  const hit = candidates.find((c) => c.route.method === method);
  if (!hit) return { kind: 'method_not_allowed', routes: candidates.map((c) => c.route) };
  const values = hit.pattern.exec(path)?.slice(1) ?? [];
  let pathParameters: Record<string, string> | null = null;
  try {
    if (hit.names.length) {
      pathParameters = Object.fromEntries(
        hit.names.map((name, i) => [name, decodeURIComponent(values[i] ?? '')]),
      );
    }
  } catch {
    return { kind: 'bad_path' };
  }
  return { kind: 'route', route: hit.route, pathParameters };
}

export function toProxyEvent(
  request: IncomingMessage,
  url: URL,
  body: Buffer,
  match: Extract<RouteMatch, { kind: 'route' }>,
  /** The key API Gateway matched, on app routes: its id and value, as `$context.identity` carries them. */
  key: { apiKeyId: string; apiKey: string } | null,
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i] ?? '';
    const value = request.rawHeaders[i + 1] ?? '';
    // API Gateway keeps the last value of a repeated header in `headers`, and all of them in `multiValueHeaders`.
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) {
    query[key] = value;
    multiQuery[key] = [...(multiQuery[key] ?? []), value];
  }
  // API Gateway passes text bodies as strings; bytes that are not UTF-8 arrive base64-encoded.
  const text = body.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(body);
  const hasQuery = url.searchParams.size > 0;
  return {
    httpMethod: request.method ?? 'GET',
    resource: match.route.resource,
    path: url.pathname,
    pathParameters: match.pathParameters,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    headers,
    multiValueHeaders,
    body: body.length === 0 ? null : isText ? text : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !isText,
    stageVariables: null,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${request.httpVersion}`,
      httpMethod: request.method ?? 'GET',
      identity: {
        apiKey: key?.apiKey ?? null,
        apiKeyId: key?.apiKeyId ?? null,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: request.headers['user-agent'] ?? null,
      },
      path: url.pathname,
      stage: 'local',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: match.route.resource,
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

/**
 * The Host values this gateway answers: loopback names with its port, and in real mode PUBLIC_URL's host
 * (a tunnel forwards Plivo's requests with it). A DNS-rebinding page sends its own name and is refused.
 */
export function localHosts(port: number, publicUrl?: string): ReadonlySet<string> {
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  // Browsers leave out the scheme's default port.
  if (port === 80) for (const name of ['127.0.0.1', 'localhost']) hosts.add(name);
  if (publicUrl) hosts.add(new URL(publicUrl).host.toLowerCase());
  return hosts;
}

/** 421 Misdirected Request, in the contract's error shape, for a Host this gateway does not serve. */
export const misdirected = (hosts: ReadonlySet<string>) =>
  errorResponse(
    new ApiError(
      421,
      'invalid_request',
      `This server answers only requests for Host ${[...hosts].join(' or ')}.`,
    ),
  );

/**
 * Whether API Gateway's 405 mock integration takes this Content-Type: it maps only MEDIA_TYPES (parameters
 * such as charset aside), and takes a request without one as application/json.
 */
export function mockAccepts(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return !type || (MEDIA_TYPES as readonly string[]).includes(type);
}
