import type { Config } from '#platform/config.ts';
import type { ApiError } from '#platform/errors.ts';
import {
  type OutboundRequest,
  type OutboundResponse,
  RequestTimedOut,
  sendRequest,
} from '#platform/http-client.ts';
import type { Logger } from '#platform/logger.ts';
import type { PlivoCredentials, Secrets } from '#platform/secrets.ts';
import {
  type CallEnder,
  type CallRequest,
  type CallToEnd,
  callRejected,
  type MessageRequest,
  messageRejected,
  type PlacedCall,
  type SentMessage,
  type Telephony,
  telephonyUnavailable,
  type WhatsAppRequest,
  whatsAppRejected,
} from './telephony.ts';

/**
 * Places calls with Plivo's Call API and sends SMS with its Message API, over lib/platform/http-client.ts: the same
 * requests the official SDK sends (contract tests hold them together), but with a configurable base URL so
 * the local phone simulator receives exactly what Plivo would, and without the SDK's half second of cold
 * start.
 */
export interface PlivoCallsOptions {
  apiUrl: string;
  /** Caller ID by destination country, `*` the default (Config.plivo.fromNumbers). */
  fromNumbers: Record<string, string>;
  /** The WhatsApp Business number (Config.whatsapp.fromNumber); without it no WhatsApp message is sent. */
  whatsAppFrom?: string | undefined;
  timeoutMs: number;
  ringTimeoutSeconds: number;
  timeLimitSeconds: number;
  credentials: () => Promise<PlivoCredentials>;
  /** `api`: which of Plivo's APIs refused. */
  onError?: (detail: PlivoErrorDetail, api: PlivoApi) => void;
}

/** `Hangup`: the requests that find and end a call (lib/events/stream-events.ts). */
export type PlivoApi = 'Call' | 'Message' | 'Hangup';

/**
 * What is logged about a failed Plivo request: the HTTP status, a reason of ours and Plivo's api_id (to
 * look the request up with Plivo). Never Plivo's error text: it repeats the number ("'12025550193' is not a
 * valid phone number").
 */
export interface PlivoErrorDetail {
  status?: number;
  reason:
    | 'timeout'
    | 'network'
    | 'plivo_4xx'
    | 'plivo_5xx'
    | 'plivo_unexpected'
    | 'unreadable_success'
    // More live calls from the caller ID than a hang-up looks at: the call may go on (its code is dead).
    | 'live_calls_not_all_inspected';
  apiId?: string;
}

/** Plivo writes numbers as digits with the country code and no plus sign. */
export const plivoNumber = (e164: string) => e164.replace(/^\+/, '');

/** The number a call or SMS to `country` comes from: that country's own, else the default. */
export const callerId = (options: Pick<PlivoCallsOptions, 'fromNumbers'>, country: string) =>
  plivoNumber(options.fromNumbers[country] ?? options.fromNumbers['*'] ?? '');

export function plivoCallBody(options: PlivoCallsOptions, request: CallRequest) {
  return {
    from: callerId(options, request.country),
    to: plivoNumber(request.to),
    answer_url: request.answerUrl,
    answer_method: 'POST',
    hangup_url: request.hangupUrl,
    hangup_method: 'POST',
    // Plivo retries a failing answer_url, then asks this one: the same signed route, marked as the last try.
    fallback_url: request.fallbackUrl,
    fallback_method: 'POST',
    ring_timeout: options.ringTimeoutSeconds,
    time_limit: options.timeLimitSeconds,
    // Plivo hangs up on answering machines, so no code is ever left on voicemail.
    machine_detection: 'hangup',
  };
}

/**
 * The body of Plivo's Send Message request, as the SDK's `messages.create(src, dst, text, { type, url,
 * method, log })` sends it. Sent from the caller ID the calls to that country use.
 */
export function plivoMessageBody(options: Pick<PlivoCallsOptions, 'fromNumbers'>, request: MessageRequest) {
  return {
    type: 'sms',
    // Delivery reports come back to this signed URL (lib/verification/record-message.ts).
    url: request.statusUrl,
    method: 'POST',
    // Plivo then keeps neither the text (it holds the code) nor the full number in its logs.
    log: false,
    src: callerId(options, request.country),
    dst: plivoNumber(request.to),
    text: request.text,
  };
}

/**
 * The body of Plivo's Send Message request for a WhatsApp authentication template, as the SDK's
 * `messages.create(src, dst, undefined, { type: 'whatsapp', template, url, method, log })` sends it. Meta's
 * authentication templates take the code twice: as the body's one parameter (`*{{1}}* is your verification
 * code.`) and as the parameter of the copy-code button, which Meta's API addresses as a URL button at index 0.
 */
export function plivoWhatsAppBody(
  options: Pick<PlivoCallsOptions, 'whatsAppFrom'>,
  request: WhatsAppRequest,
) {
  const code = [{ type: 'text', text: request.code }];
  return {
    type: 'whatsapp',
    // Delivery and read reports come back to this signed URL (lib/verification/record-message.ts).
    url: request.statusUrl,
    method: 'POST',
    // Plivo applies its logging preference to WhatsApp messages too: no content kept, the number masked.
    log: false,
    template: {
      name: request.template,
      language: request.language,
      components: [
        { type: 'body', parameters: code },
        { type: 'button', sub_type: 'url', index: '0', parameters: code },
      ],
    },
    src: plivoNumber(options.whatsAppFrom ?? ''),
    dst: plivoNumber(request.to),
  };
}

/** The telephony of a function's configuration, with the Plivo credentials from its secrets. */
export const telephonyFor = (deps: {
  config: Config;
  secrets: Secrets;
  logger: Logger;
}): Telephony & CallEnder =>
  createPlivoTelephony({
    ...deps.config.plivo,
    whatsAppFrom: deps.config.whatsapp?.fromNumber,
    credentials: () => deps.secrets.plivo(),
    onError: (detail, api) =>
      deps.logger.warn(`Plivo refused the ${PLIVO_API_NOUN[api]} request`, { ...detail }),
  });

const PLIVO_API_NOUN: Record<PlivoApi, string> = { Call: 'call', Message: 'message', Hangup: 'hang-up' };

/**
 * Plivo's two ids for a call, as its docs give them: make-call answers with the request's `request_uuid`; the
 * call itself has a `CallUUID`, sent to the answer, ring and hangup URLs once it exists. Hanging up takes the
 * request's id while the call is queued or ringing (`DELETE Request/{request_uuid}/`, the SDK's
 * `calls.cancel`), and the call's once answered (`DELETE Call/{call_uuid}/`, `calls.hangup`).
 *
 * Only the request_uuid is stored: answer writes nothing, and recording the CallUUID it receives would cost a
 * write on every answered call (and answer a write grant) for the rare cancel that lands mid-call. So that
 * cancel looks the live call up instead, through Plivo's read-only live-call API: the live outbound calls
 * from the verification's caller ID (`GET Call/?status=live`), then each one's details (`GET Call/{uuid}/
 * ?status=live`, which carry its request_uuid) until the one placed for this request is found.
 */
export const plivoHangupPaths = (call: { requestId: string; callUuid?: string }) => ({
  request: `Request/${encodeURIComponent(call.requestId)}/`,
  call: `Call/${encodeURIComponent(call.callUuid ?? '')}/`,
});

/** Live calls from one caller ID looked at per hang-up, at most, and how many are asked about at once. */
export const LIVE_CALLS_INSPECTED = 40;
const LIVE_CALL_LOOKUPS_AT_ONCE = 10;
/** The most Plivo requests a hang-up waits for one after the other (infra sizes the events function by it). */
export const HANG_UP_PLIVO_WAITS = 3 + Math.ceil(LIVE_CALLS_INSPECTED / LIVE_CALL_LOOKUPS_AT_ONCE);

export function createPlivoTelephony(options: PlivoCallsOptions): Telephony & CallEnder {
  return {
    async placeCall(request: CallRequest): Promise<PlacedCall> {
      const body = await postToPlivo(options, 'Call', plivoCallBody(options, request), callRejected);
      const requestId = (body as { request_uuid?: unknown } | undefined)?.request_uuid;
      return { requestId: firstId(requestId) };
    },
    async sendMessage(request: MessageRequest): Promise<SentMessage> {
      const body = await postToPlivo(options, 'Message', plivoMessageBody(options, request), messageRejected);
      const messageId = (body as { message_uuid?: unknown } | undefined)?.message_uuid;
      return { messageId: firstId(messageId) };
    },
    async sendWhatsApp(request: WhatsAppRequest): Promise<SentMessage> {
      // A stack without WhatsApp settings refuses the channel before anything is stored (403).
      if (!options.whatsAppFrom) throw new Error('No WhatsApp number configured (WHATSAPP_FROM_NUMBER)');
      const payload = plivoWhatsAppBody(options, request);
      const body = await postToPlivo(options, 'Message', payload, whatsAppRejected);
      const messageId = (body as { message_uuid?: unknown } | undefined)?.message_uuid;
      return { messageId: firstId(messageId) };
    },
    async endCall(call: CallToEnd) {
      // Queued or ringing: the request is canceled. Answered: Plivo knows no such request any more.
      if (await deleteAtPlivo(options, plivoHangupPaths(call).request)) return 'ended';
      const callUuid = await findLiveCall(options, call);
      if (!callUuid) return 'already_over';
      return (await deleteAtPlivo(options, plivoHangupPaths({ ...call, callUuid }).call))
        ? 'ended'
        : 'already_over';
    },
  };
}

/** The CallUUID of the live call placed for `call.requestId`, or undefined when none is live any more. */
async function findLiveCall(options: PlivoCallsOptions, call: CallToEnd): Promise<string | undefined> {
  const query = new URLSearchParams({
    status: 'live',
    call_direction: 'outbound',
    from_number: callerId(options, call.country),
  });
  const listed = await readFromPlivo(options, `Call/?${query}`);
  const uuids = (listed as { calls?: unknown } | undefined)?.calls;
  const live = (Array.isArray(uuids) ? uuids : []).filter((uuid): uuid is string => typeof uuid === 'string');
  if (live.length > LIVE_CALLS_INSPECTED)
    options.onError?.({ reason: 'live_calls_not_all_inspected' }, 'Hangup');
  const inspected = live.slice(0, LIVE_CALLS_INSPECTED);
  for (let start = 0; start < inspected.length; start += LIVE_CALL_LOOKUPS_AT_ONCE) {
    const details = await Promise.all(
      inspected
        .slice(start, start + LIVE_CALL_LOOKUPS_AT_ONCE)
        .map((uuid) => readFromPlivo(options, `Call/${encodeURIComponent(uuid)}/?status=live`)),
    );
    const found = details.find(
      (detail) => (detail as { request_uuid?: unknown } | undefined)?.request_uuid === call.requestId,
    );
    if (found) return String((found as { call_uuid?: unknown }).call_uuid);
  }
  return undefined;
}

/** One GET to Plivo's Call API: its parsed body, undefined when Plivo knows no such thing (404). */
async function readFromPlivo(options: PlivoCallsOptions, path: string): Promise<unknown> {
  const response = await requestPlivo(options, 'Hangup', 'GET', path);
  if (response.status === 404) return undefined;
  if (response.status >= 200 && response.status < 300) {
    try {
      return JSON.parse(response.text) as unknown;
    } catch {
      options.onError?.({ status: response.status, reason: 'unreadable_success' }, 'Hangup');
      throw telephonyUnavailable();
    }
  }
  const apiId = plivoApiId(response.text);
  const reason = response.status >= 500 ? 'plivo_5xx' : 'plivo_4xx';
  options.onError?.({ status: response.status, reason, ...(apiId && { apiId }) }, 'Hangup');
  throw telephonyUnavailable();
}

/** One DELETE to Plivo's Call API: true once done (204), false when Plivo knows no such one (404). */
async function deleteAtPlivo(options: PlivoCallsOptions, path: string): Promise<boolean> {
  const response = await requestPlivo(options, 'Hangup', 'DELETE', path);
  if (response.status >= 200 && response.status < 300) return true;
  if (response.status === 404) return false;
  const reason = response.status >= 500 ? 'plivo_5xx' : 'plivo_4xx';
  const apiId = plivoApiId(response.text);
  options.onError?.({ status: response.status, reason, ...(apiId && { apiId }) }, 'Hangup');
  throw telephonyUnavailable();
}

/** One request to Plivo's API; no answer (a timeout, the network) is reported and throws 502. */
async function requestPlivo(
  options: PlivoCallsOptions,
  api: PlivoApi,
  method: OutboundRequest['method'],
  path: string,
  payload?: Record<string, unknown>,
): Promise<OutboundResponse> {
  const { authId, authToken } = await options.credentials();
  const authorization = `Basic ${Buffer.from(`${authId}:${authToken}`).toString('base64')}`;
  try {
    return await sendRequest({
      method,
      url: new URL(`${options.apiUrl}/v1/Account/${encodeURIComponent(authId)}/${path}`),
      headers: payload
        ? { Authorization: authorization, 'Content-Type': 'application/json' }
        : { Authorization: authorization },
      ...(payload && { body: JSON.stringify(payload) }),
      timeoutMs: options.timeoutMs,
    });
  } catch (error) {
    options.onError?.({ reason: error instanceof RequestTimedOut ? 'timeout' : 'network' }, api);
    throw telephonyUnavailable();
  }
}

const firstId = (id: unknown) => String(Array.isArray(id) ? id[0] : (id ?? 'unknown'));

/**
 * One request to Plivo's REST API; resolves with its parsed body once Plivo accepted it. A refusal of the
 * number (400, 403, 404, 422) throws `refused()`; our account's troubles (401, 429), Plivo's 5xx, a network
 * error or a timeout throw 502 telephony_unavailable: the caller can retry those.
 */
async function postToPlivo(
  options: PlivoCallsOptions,
  api: 'Call' | 'Message',
  payload: Record<string, unknown>,
  refused: () => ApiError,
): Promise<unknown> {
  const response = await requestPlivo(options, api, 'POST', `${api}/`, payload);
  if (response.status >= 200 && response.status < 300) {
    // The call or message is out: an odd body must not turn that into an error (a retry would pay twice).
    try {
      return JSON.parse(response.text) as unknown;
    } catch {
      options.onError?.({ status: response.status, reason: 'unreadable_success' }, api);
      return undefined;
    }
  }
  const reason =
    response.status >= 500 ? 'plivo_5xx' : response.status >= 400 ? 'plivo_4xx' : 'plivo_unexpected';
  const apiId = plivoApiId(response.text);
  options.onError?.({ status: response.status, reason, ...(apiId && { apiId }) }, api);
  // 400/403/404: Plivo refuses this number (invalid, barred, or geo permissions). 401 and 429 are about
  // our account, and 5xx about Plivo: the caller can retry those.
  if ([400, 403, 404, 422].includes(response.status)) throw refused();
  throw telephonyUnavailable();
}

/** Plivo's id for the request, only when it has the shape of one (a UUID): nothing else of the body. */
function plivoApiId(body: string): string | undefined {
  try {
    const apiId = (JSON.parse(body) as { api_id?: unknown }).api_id;
    return typeof apiId === 'string' && /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i.test(apiId)
      ? apiId
      : undefined;
  } catch {
    return undefined;
  }
}
