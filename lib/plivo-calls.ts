import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import type { PlivoCredentials, Secrets } from './secrets.ts';
import {
  type CallRequest,
  callRejected,
  type PlacedCall,
  type Telephony,
  telephonyUnavailable,
} from './telephony.ts';

/**
 * Places calls with Plivo's Call API over fetch: the same request the official SDK sends (a contract test
 * holds the two together), but with a configurable base URL so the local phone simulator receives exactly
 * what Plivo would, and without the SDK's half second of cold start.
 */
export interface PlivoCallsOptions {
  apiUrl: string;
  fromNumber: string;
  timeoutMs: number;
  ringTimeoutSeconds: number;
  timeLimitSeconds: number;
  credentials: () => Promise<PlivoCredentials>;
  onError?: (detail: PlivoErrorDetail) => void;
}

/**
 * What is logged about a failed Call API request: the HTTP status, a reason of ours and Plivo's api_id (to
 * look the request up with Plivo). Never Plivo's error text: it repeats the number ("'12025550193' is not a
 * valid phone number").
 */
export interface PlivoErrorDetail {
  status?: number;
  reason: 'timeout' | 'network' | 'plivo_4xx' | 'plivo_5xx' | 'plivo_unexpected' | 'unreadable_success';
  apiId?: string;
}

/** Plivo writes numbers as digits with the country code and no plus sign. */
const plivoNumber = (e164: string) => e164.replace(/^\+/, '');

export function plivoCallBody(options: PlivoCallsOptions, request: CallRequest) {
  return {
    from: plivoNumber(options.fromNumber),
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

/** The telephony of a function's configuration, with the Plivo credentials from its secrets. */
export const telephonyFor = (deps: { config: Config; secrets: Secrets; logger: Logger }): Telephony =>
  createPlivoTelephony({
    ...deps.config.plivo,
    credentials: () => deps.secrets.plivo(),
    onError: (detail) => deps.logger.warn('Plivo refused the call request', { ...detail }),
  });

export function createPlivoTelephony(options: PlivoCallsOptions): Telephony {
  return {
    async placeCall(request: CallRequest): Promise<PlacedCall> {
      const { authId, authToken } = await options.credentials();
      let response: Response;
      try {
        response = await fetch(`${options.apiUrl}/v1/Account/${encodeURIComponent(authId)}/Call/`, {
          method: 'POST',
          headers: {
            Authorization: `Basic ${Buffer.from(`${authId}:${authToken}`).toString('base64')}`,
            'Content-Type': 'application/json',
          },
          body: JSON.stringify(plivoCallBody(options, request)),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (error) {
        const reason = (error as Error).name === 'TimeoutError' ? 'timeout' : 'network';
        options.onError?.({ reason });
        throw telephonyUnavailable();
      }
      const text = await response.text().catch(() => '');
      if (response.ok) {
        // The call is out: an odd body must not turn that into an error (a retry would call twice).
        let requestId: unknown;
        try {
          requestId = (JSON.parse(text) as { request_uuid?: unknown }).request_uuid;
        } catch {
          options.onError?.({ status: response.status, reason: 'unreadable_success' });
        }
        return { requestId: String(Array.isArray(requestId) ? requestId[0] : (requestId ?? 'unknown')) };
      }
      const reason =
        response.status >= 500 ? 'plivo_5xx' : response.status >= 400 ? 'plivo_4xx' : 'plivo_unexpected';
      const apiId = plivoApiId(text);
      options.onError?.({ status: response.status, reason, ...(apiId && { apiId }) });
      // 400/403/404: Plivo refuses this number (invalid, barred, or geo permissions). 401 and 429 are about
      // our account, and 5xx about Plivo: the caller can retry those.
      if ([400, 403, 404, 422].includes(response.status)) throw callRejected();
      throw telephonyUnavailable();
    },
  };
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
