import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { plivoSignature } from '#channels/plivo-signature.ts';
import type { OutcomeEvent, OutcomeEventType } from '#events/outcome-events.ts';

/**
 * API Gateway REST proxy events as the gateway hands them to the functions, for the tests and the benchmark
 * alike (no test-runner imports here): app routes carry the API key id API Gateway matched, Plivo's
 * webhooks a form body and a V3 signature over the URL we gave Plivo.
 */
export const API_KEY_ID = 'key-test-1';
export const PLIVO_AUTH_TOKEN = 'test-auth-token';

/** An API Gateway REST proxy event, as the gateway (or the local stack) builds it. */
export function apiEvent(options: {
  method: string;
  resource: string;
  path?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  /** A query parameter given more than once, as API Gateway passes it. */
  multiQuery?: Record<string, string[]>;
  apiKeyId?: string | null;
  /** The matched key's value (`$context.identity.apiKey`): a rotated key's names its tenant. */
  apiKey?: string;
}): APIGatewayProxyEvent {
  const body = options.rawBody ?? (options.body === undefined ? null : JSON.stringify(options.body));
  const headers = {
    ...(body !== null && { 'Content-Type': 'application/json' }),
    ...options.headers,
  };
  return {
    httpMethod: options.method,
    resource: options.resource,
    path: options.path ?? options.resource,
    pathParameters: options.pathParameters ?? null,
    queryStringParameters:
      options.query ??
      (options.multiQuery &&
        Object.fromEntries(
          Object.entries(options.multiQuery).map(([name, values]) => [name, values.at(-1)]),
        )) ??
      null,
    multiValueQueryStringParameters:
      options.multiQuery ??
      (options.query &&
        Object.fromEntries(Object.entries(options.query).map(([name, value]) => [name, [value]]))) ??
      null,
    headers,
    multiValueHeaders: {},
    body,
    isBase64Encoded: false,
    stageVariables: null,
    requestContext: {
      requestId: randomUUID(),
      stage: 'test',
      identity: {
        apiKeyId: options.apiKeyId === undefined ? API_KEY_ID : options.apiKeyId,
        apiKey: options.apiKey ?? null,
        sourceIp: '127.0.0.1',
      },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  } as APIGatewayProxyEvent;
}

/**
 * A Plivo webhook for `url` as API Gateway hands it to the function: form body, query parsed, and the
 * V3 signature Plivo would send (or `signature` instead, to forge one).
 */
export function webhookEvent(
  url: string,
  params: Record<string, string>,
  options: {
    authToken?: string;
    signature?: string | null;
    nonce?: string;
    headers?: Record<string, string>;
    /** The caller's address as API Gateway saw it (default 127.0.0.1). */
    sourceIp?: string | null;
  } = {},
): APIGatewayProxyEvent {
  const parsed = new URL(url);
  const nonce = options.nonce ?? randomUUID().replace(/-/g, '');
  const signature =
    options.signature === undefined
      ? plivoSignature(url, Object.entries(params), nonce, options.authToken ?? PLIVO_AUTH_TOKEN)
      : options.signature;
  const multi: Record<string, string[]> = {};
  for (const [key, value] of parsed.searchParams) multi[key] = [...(multi[key] ?? []), value];
  // The resource is the path below the stage, as API Gateway reports it.
  const resource = parsed.pathname.replace(/^\/[^/]+(?=\/v1\/)/, '');
  const event = apiEvent({
    method: 'POST',
    resource,
    rawBody: new URLSearchParams(params).toString(),
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Plivo-Signature-V3-Nonce': nonce,
      ...(signature !== null && { 'X-Plivo-Signature-V3': signature }),
      ...options.headers,
    },
    apiKeyId: null,
  });
  if (options.sourceIp !== undefined) {
    const identity = { ...event.requestContext.identity, sourceIp: options.sourceIp };
    event.requestContext = { ...event.requestContext, identity } as APIGatewayProxyEvent['requestContext'];
  }
  return {
    ...event,
    queryStringParameters: Object.fromEntries(parsed.searchParams),
    multiValueQueryStringParameters: multi,
  };
}

/** Plivo's answer parameters for an outbound call. */
export const answerParams = (callUuid: string, extra: Record<string, string> = {}) => ({
  CallUUID: callUuid,
  ALegUUID: callUuid,
  RequestUUID: callUuid,
  ALegRequestUUID: callUuid,
  From: '14155550100',
  To: '14155550123',
  Direction: 'outbound',
  CallStatus: 'in-progress',
  Event: 'StartApp',
  ...extra,
});

/** What Plivo posts to the hangup URL after a typical 20-second call, billed as one minute. */
export const hangupParams = (callUuid: string, extra: Record<string, string> = {}) => ({
  ...answerParams(callUuid),
  CallStatus: 'completed',
  Event: 'Hangup',
  Duration: '20',
  BillDuration: '60',
  TotalCost: '0.00850',
  HangupCause: 'NORMAL_CLEARING',
  HangupCauseName: 'Normal Hangup',
  HangupCauseCode: '4000',
  HangupSource: 'Callee',
  ...extra,
});

/** An outcome event as the events function hands it to the webhook sink, for a voice verification. */
export function outcomeEvent(options: {
  id: string;
  now: number;
  type?: OutcomeEventType;
  apiKeyId?: string;
}): OutcomeEvent {
  return {
    id: options.id,
    apiKeyId: options.apiKeyId ?? API_KEY_ID,
    payload: {
      type: options.type ?? 'verification.approved',
      createdAt: new Date(options.now).toISOString(),
      data: {
        verificationId: 'vrf_01KAAAAAAAAAAAAAAAAAAAAAAA',
        status: 'approved',
        channel: 'voice',
        to: '+1********23',
      },
    },
  };
}
