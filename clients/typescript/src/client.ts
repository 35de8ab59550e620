import createClient from 'openapi-fetch';
import { errorFrom, VoiceOtpError } from './errors.ts';
import type { components, paths } from './openapi.ts';

type Schemas = components['schemas'];
export type StartVerificationRequest = Schemas['SendRequest'];
export type CreatedVerification = Schemas['CreatedVerification'];
export type CheckRequest = { id: string; code: string } | { phone: string; code: string };
export type CheckResult = Schemas['CheckResult'];
export type Verification = Schemas['VerificationStatus'];
export type CanceledVerification = { id: string; status: 'canceled' };
export type WebhookEndpoint = Schemas['Webhook'];
export type WebhookEndpointWithSecret = Schemas['WebhookWithSecret'];
export type WebhookEventType = Schemas['WebhookEventType'];

export interface VoiceOtpClientOptions {
  /** The API's base URL: `http://127.0.0.1:3000` locally, the stack's ApiUrl output on AWS. */
  baseUrl: string;
  /** Sent as `x-api-key`. */
  apiKey: string;
  /** Abandons a request after this many milliseconds (default 10 000); a send is then retried once. */
  timeoutMs?: number;
  /** Another fetch (a test double, an instrumented one); defaults to the runtime's global fetch. */
  fetch?: (request: Request) => Promise<Response>;
}

/** A fresh Idempotency-Key: keep it with your own record of the send, and reuse it when you retry that send. */
export const newIdempotencyKey = () => crypto.randomUUID();

/**
 * The voice-otp API over fetch: one method per operation, typed from openapi.yaml. A method resolves to the
 * operation's success body and throws a VoiceOtpError (its stable `code`, and `retryAfterSeconds` on 429 and
 * 503) for any other answer. Only the runtime's fetch, crypto.randomUUID and AbortSignal are used: Node 20+,
 * Deno, Bun, Cloudflare Workers and other edge runtimes.
 */
export class VoiceOtpClient {
  readonly #http: ReturnType<typeof createClient<paths>>;
  readonly #timeoutMs: number;

  constructor(options: VoiceOtpClientOptions) {
    if (!options.apiKey) throw new TypeError('VoiceOtpClient needs an apiKey.');
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#http = createClient<paths>({
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      headers: { 'x-api-key': options.apiKey },
      ...(options.fetch && { fetch: options.fetch }),
    });
  }

  /**
   * Starts a verification: the phone gets a call (or an SMS with `channel: 'sms'`). Always sent with an
   * Idempotency-Key (`idempotencyKey`, or a fresh one), so the one retry after a network failure or a timeout
   * never places a second call: the API replays the first answer instead.
   */
  async startVerification(
    request: StartVerificationRequest,
    options: { idempotencyKey?: string } = {},
  ): Promise<CreatedVerification> {
    const key = options.idempotencyKey ?? newIdempotencyKey();
    const attempt = () =>
      this.#http.POST('/v1/verifications', {
        body: request,
        params: { header: { 'Idempotency-Key': key } },
        signal: this.#signal(),
      });
    let result: Awaited<ReturnType<typeof attempt>>;
    try {
      result = await attempt();
    } catch (error) {
      if (!isTransportFailure(error)) throw error;
      result = await attempt();
    }
    return this.#unwrap<CreatedVerification>(result);
  }

  /** Checks a code, by verification id or by phone (that phone's latest pending verification). */
  async checkCode(request: CheckRequest): Promise<CheckResult> {
    return this.#unwrap<CheckResult>(
      await this.#http.POST('/v1/verifications/check', { body: request, signal: this.#signal() }),
    );
  }

  /** The verification, its call, its SMS and its fallback as they stand now. */
  async getVerification(id: string): Promise<Verification> {
    return this.#unwrap<Verification>(
      await this.#http.GET('/v1/verifications/{id}', { params: { path: { id } }, signal: this.#signal() }),
    );
  }

  /** Cancels a pending verification (409 `verification_not_pending` otherwise); a call in flight is hung up. */
  async cancelVerification(id: string): Promise<CanceledVerification> {
    return this.#unwrap<CanceledVerification>(
      await this.#http.POST('/v1/verifications/{id}/cancel', {
        params: { path: { id } },
        signal: this.#signal(),
      }),
    );
  }

  /** Deletes every verification of this phone made with this API key (an erasure request); idempotent. */
  async erasePhone(phone: string): Promise<{ erased: number }> {
    return this.#unwrap<{ erased: number }>(
      await this.#http.POST('/v1/phones/erase', { body: { phone }, signal: this.#signal() }),
    );
  }

  /** Sets this API key's webhook endpoint; the answer carries its new signing secret, shown only this once. */
  async setWebhook(endpoint: {
    url: string;
    events: WebhookEventType[];
  }): Promise<WebhookEndpointWithSecret> {
    return this.#unwrap<WebhookEndpointWithSecret>(
      await this.#http.PUT('/v1/webhook', { body: endpoint, signal: this.#signal() }),
    );
  }

  /** This API key's webhook endpoint (never its secret); 404 `webhook_not_found` when none is set. */
  async getWebhook(): Promise<WebhookEndpoint> {
    return this.#unwrap<WebhookEndpoint>(await this.#http.GET('/v1/webhook', { signal: this.#signal() }));
  }

  /** Removes the webhook endpoint; deliveries still queued are dropped. */
  async deleteWebhook(): Promise<void> {
    const { response, error } = await this.#http.DELETE('/v1/webhook', { signal: this.#signal() });
    if (!response.ok) throw errorFrom(response, error);
  }

  #signal() {
    return AbortSignal.timeout(this.#timeoutMs);
  }

  /**
   * The success body, typed from the document's schema (openapi-fetch's own inference drops properties whose
   * type is only null, such as a send-time fallback's `reason`).
   */
  #unwrap<T>(result: { data?: unknown; error?: unknown; response: Response }): T {
    const { data, error, response } = result;
    if (!response.ok) throw errorFrom(response, error);
    if (data === undefined) {
      throw new VoiceOtpError(response.status, 'unexpected_response', 'The API answered without a body.');
    }
    return data as T;
  }
}

/** fetch rejects with a TypeError when the network fails, and with a TimeoutError when the signal fires. */
const isTransportFailure = (error: unknown) =>
  error instanceof TypeError || (error instanceof DOMException && error.name === 'TimeoutError');
