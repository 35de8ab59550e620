import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { countSegments, type SegmentCount } from '#channels/sms-segments.ts';
import {
  type ApiReply,
  authFailure,
  callbackHeaders,
  e164,
  mask,
  plivoNumber,
  type SimulatorOptions,
  validNumber,
} from './plivo-wire.ts';
import {
  type AuthenticationTemplate,
  authenticationCode,
  renderAuthentication,
  TemplateMismatch,
} from './whatsapp-templates.ts';

/**
 * The phone's messages, speaking Plivo's protocol: it accepts the Message API request as Plivo does
 * (`POST /v1/Account/{authId}/Message/`, the body the official SDK's `messages.create` sends) for an SMS
 * (`type: sms`) or a WhatsApp template message (`type: whatsapp`, checked against the account's approved
 * templates and rendered as the phone shows it), keeps an inbox, and posts signed delivery reports with
 * Plivo's parameter names — queued, sent, then delivered (and read, for WhatsApp) or undelivered — retrying
 * a report that got no 2xx on Plivo's schedule. Time is compressed by `speed`.
 */
export type SimMessageStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'undelivered';

export interface SimMessage {
  id: string;
  type: 'sms' | 'whatsapp';
  to: string;
  from: string;
  /** What the phone shows: the text once delivered, null before and for a message never delivered. */
  text: string | null;
  status: SimMessageStatus;
  sentAt: string;
}

/** The account's WhatsApp side: its WhatsApp Business number and its approved authentication templates. */
export interface SimulatedWhatsApp {
  /** E.164. */
  number: string;
  templates: readonly AuthenticationTemplate[];
}

/** Message recipients with scripted behaviour (DESIGN.md); the special callees receive messages normally. */
export const SPECIAL_RECIPIENTS = {
  '+12025550197': 'SMS and WhatsApp undelivered (delivery report undelivered)',
  '+12025550198': 'Plivo rejects the SMS (4xx)',
  '+12025550199': 'not on WhatsApp: Plivo refuses the WhatsApp message (4xx); SMS arrive',
} as const;

const UNDELIVERED = '+12025550197';
const REJECTED = '+12025550198';
const NOT_ON_WHATSAPP = '+12025550199';
/** Plivo's error code "Destination permanently unavailable". */
const UNDELIVERED_ERROR_CODE = '70';
/** Plivo waits this long for an answer to a callback (not compressed: it is the receiver's time). */
const REPORT_TIMEOUT_MS = 8000;
/** Plivo retries a callback that got no 2xx three times: 60, 120 and 240 seconds after the previous try. */
const REPORT_RETRY_SECONDS = [60, 120, 240];
/** Simulated seconds from queued to sent, from sent to the handset's delivery report, and to reading it. */
const SEND_SECONDS = 1;
const DELIVER_SECONDS = 2;
const READ_SECONDS = 2;
/** A reference price per SMS segment to a US number (Plivo's list price is of this order). */
const RATE_PER_UNIT = 0.0055;
/** A placeholder price per WhatsApp authentication message (Meta's rates are of this order: bench/prices.ts). */
const WHATSAPP_RATE = 0.0014;
/** ITU's test network (MCC 001, MNC 01): no real operator is claimed. */
const TEST_NETWORK = { MCC: '001', MNC: '01' };
const LOG_VALUES = new Set<unknown>([true, false, 'true', 'false', 'content_only', 'number_only']);

interface MessageState extends SimMessage {
  body: string;
  reportUrl: string | undefined;
  units: number;
  rate: number;
  outcome: 'delivered' | 'undelivered';
  messageTime: Date;
  sentTime?: Date;
  reportTime?: Date;
  sequence: number;
}

/** Plivo's longest texts: 1,600 GSM characters or 737 Unicode ones (counted in the counter's units). */
const tooLong = ({ encoding, units }: SegmentCount) => units > (encoding === 'GSM-7' ? 1600 : 737);

/** Plivo's callback time format: `YYYY-mm-dd HH:MM:SS.SSSSSS`, UTC. */
const plivoTime = (date: Date | undefined) =>
  date ? `${date.toISOString().replace('T', ' ').replace('Z', '')}000` : '';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function validUrl(value: string) {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

export class MessageSimulator {
  readonly #options: SimulatorOptions;
  readonly #whatsapp: SimulatedWhatsApp | undefined;
  readonly #messages: MessageState[] = [];
  readonly #running = new Set<Promise<void>>();
  readonly #abort = new AbortController();

  /** Without `whatsapp`, the account has no WhatsApp Business number: Plivo refuses every WhatsApp message. */
  constructor(options: SimulatorOptions, whatsapp?: SimulatedWhatsApp) {
    this.#options = options;
    this.#whatsapp = whatsapp;
  }

  /** Plivo's Message API: `POST /v1/Account/{authId}/Message/`. */
  async createMessage(authorization: string | undefined, authId: string, rawBody: string): Promise<ApiReply> {
    const apiId = randomUUID();
    const refused = authFailure(this.#options, authorization, authId, apiId);
    if (refused) return refused;
    const bad = (error: string): ApiReply => ({ status: 400, body: { api_id: apiId, error } });
    let body: unknown;
    try {
      body = JSON.parse(rawBody);
    } catch {
      return bad('invalid JSON body');
    }
    if (!isRecord(body)) return bad('the body must be a JSON object');
    const { src, dst, text, type, url, method, log, template } = body;
    if (typeof src !== 'string' || !src) return bad('src parameter is required');
    if (typeof dst !== 'string' || !dst) return bad('dst parameter is required');
    if (dst.includes('<')) return bad('the simulator sends to one dst at a time');
    const to = plivoNumber(dst);
    if (!validNumber(to)) return bad('dst is not a valid phone number');
    if (type !== undefined && type !== 'sms' && type !== 'whatsapp')
      return bad('the simulator sends type sms or whatsapp only');
    if (url !== undefined && (typeof url !== 'string' || !validUrl(url)))
      return bad('url is not a valid URL');
    if (method !== undefined && String(method).toUpperCase() !== 'POST')
      return bad('the simulator posts delivery reports with method POST only');
    if (log !== undefined && !LOG_VALUES.has(log))
      return bad('log must be true, false, content_only or number_only');

    const accepted =
      type === 'whatsapp' ? this.#whatsappMessage(body, to, bad) : this.#smsMessage(text, to, bad);
    if ('status' in accepted) return accepted;
    const messageTime = new Date();
    const message: MessageState = {
      id: randomUUID(),
      type: type === 'whatsapp' ? 'whatsapp' : 'sms',
      to: e164(to),
      from: validNumber(plivoNumber(src)) ? e164(plivoNumber(src)) : src,
      text: null,
      status: 'queued',
      sentAt: messageTime.toISOString(),
      body: accepted.text,
      reportUrl: url,
      units: accepted.units,
      rate: accepted.rate,
      outcome: e164(to) === UNDELIVERED ? 'undelivered' : 'delivered',
      messageTime,
      sequence: 0,
    };
    this.#messages.push(message);
    if (log !== false && log !== 'false') {
      this.#options.log(
        `[simulated Plivo] message ${message.id} is logged by Plivo with its ${template ? 'code' : 'text'} and full number (send log: false)`,
      );
    }
    this.#track(this.#deliver(message));
    return {
      status: 202,
      body: { api_id: apiId, message: 'message(s) queued', message_uuid: [message.id] },
    };
  }

  /** An SMS: its text, within Plivo's length limits. */
  #smsMessage(
    text: unknown,
    to: string,
    bad: (error: string) => ApiReply,
  ): ApiReply | { text: string; units: number; rate: number } {
    if (typeof text !== 'string' || !text) return bad('text parameter is required');
    const size = countSegments(text);
    if (tooLong(size)) return bad('text is longer than 1600 GSM or 737 Unicode characters');
    // Like Plivo's refusals, the text repeats the number: the service must not log it verbatim.
    if (e164(to) === REJECTED) return bad(`'${to}' is not a valid destination for this message`);
    return { text, units: size.segments, rate: RATE_PER_UNIT };
  }

  /**
   * A WhatsApp message: from the account's WhatsApp Business number, to a WhatsApp user, as one of its
   * approved templates (a business may start a conversation with nothing else). What the phone shows is the
   * template as Meta renders it.
   */
  #whatsappMessage(
    body: Record<string, unknown>,
    to: string,
    bad: (error: string) => ApiReply,
  ): ApiReply | { text: string; units: number; rate: number } {
    const whatsapp = this.#whatsapp;
    if (!whatsapp) return bad('this account has no WhatsApp Business number');
    if (plivoNumber(body.src) !== plivoNumber(whatsapp.number))
      return bad('src is not a WhatsApp Business number of this account');
    if (body.interactive !== undefined || body.location !== undefined || body.media_urls !== undefined)
      return bad('the simulator sends WhatsApp template messages only');
    if (!isRecord(body.template))
      return bad('a template is required to start a WhatsApp conversation (outside the 24-hour window)');
    // Like Plivo's refusals, the text repeats the number: the service must not log it verbatim.
    if (e164(to) === NOT_ON_WHATSAPP) return bad(`'${to}' is not a valid WhatsApp user`);
    try {
      const { code, approved, language } = authenticationCode(whatsapp.templates, body.template);
      return { text: renderAuthentication(approved, language, code), units: 1, rate: WHATSAPP_RATE };
    } catch (error) {
      if (error instanceof TemplateMismatch) return bad(error.message);
      throw error;
    }
  }

  /** `GET /_simulator/messages`, oldest first. */
  messages(): SimMessage[] {
    return this.#messages.map(({ id, type, to, from, text, status, sentAt }) => ({
      id,
      type,
      to,
      from,
      text,
      status,
      sentAt,
    }));
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.allSettled([...this.#running]);
  }

  #track(run: Promise<void>) {
    const tracked = run.catch((error: unknown) => {
      if (!this.#abort.signal.aborted)
        this.#options.log(`Message simulator error: ${(error as Error).message}`);
    });
    this.#running.add(tracked);
    void tracked.finally(() => this.#running.delete(tracked));
  }

  async #wait(simulatedSeconds: number) {
    await sleep((simulatedSeconds * 1000) / this.#options.speed, undefined, { signal: this.#abort.signal });
  }

  #say(message: MessageState, line: string) {
    this.#options.log(`[simulated phone ${mask(message.to)}] ${line}`);
  }

  async #deliver(message: MessageState) {
    await this.#report(message);
    await this.#wait(SEND_SECONDS);
    message.status = 'sent';
    message.sentTime = new Date();
    await this.#report(message);
    await this.#wait(DELIVER_SECONDS);
    message.reportTime = new Date();
    message.status = message.outcome;
    const noun = message.type === 'whatsapp' ? 'WhatsApp message' : 'SMS';
    if (message.outcome === 'delivered') {
      // The phone shows what it received: this line and the inbox are the only places the text appears.
      // JSON-quoted, so a text of several lines stays on the one labelled line.
      message.text = message.body;
      this.#say(message, `received ${noun}: ${JSON.stringify(message.body)}`);
    } else {
      this.#say(message, `${noun} not delivered (error ${UNDELIVERED_ERROR_CODE})`);
    }
    await this.#report(message);
    // WhatsApp tells the sender when the user opened the chat (read receipts on, as by default).
    if (message.type === 'whatsapp' && message.outcome === 'delivered') {
      await this.#wait(READ_SECONDS);
      message.status = 'read';
      await this.#report(message);
    }
  }

  /** One delivery report for the message's current status; retried in the background if it failed. */
  async #report(message: MessageState) {
    const url = message.reportUrl;
    if (!url) return;
    const params = this.#reportParams(message);
    if (await this.#post(message, url, params)) return;
    this.#track(this.#retry(message, url, params));
  }

  async #retry(message: MessageState, url: string, params: Record<string, string>) {
    for (const seconds of REPORT_RETRY_SECONDS) {
      await this.#wait(seconds);
      if (await this.#post(message, url, params)) return;
    }
    this.#say(message, `gave up on the ${params.Status} delivery report`);
  }

  #reportParams(message: MessageState): Record<string, string> {
    message.sequence += 1;
    const amount = (message.units * message.rate).toFixed(5);
    return {
      MessageUUID: message.id,
      ParentMessageUUID: message.id,
      PartInfo: '1 of 1',
      To: plivoNumber(message.to),
      From: plivoNumber(message.from),
      Type: message.type,
      Status: message.status,
      Units: String(message.units),
      TotalRate: message.rate.toFixed(5),
      TotalAmount: amount,
      ...TEST_NETWORK,
      Sequence: String(message.sequence),
      MessageTime: plivoTime(message.messageTime),
      QueuedTime: plivoTime(message.messageTime),
      SentTime: plivoTime(message.sentTime),
      DeliveryReportTime: plivoTime(message.reportTime),
      PowerpackUUID: '',
      // WhatsApp's conversation, which Meta bills by the template's category.
      ...(message.type === 'whatsapp' && {
        ConversationID: message.id.replaceAll('-', ''),
        ConversationOrigin: 'authentication',
      }),
      ...(message.status === 'undelivered' && { ErrorCode: UNDELIVERED_ERROR_CODE }),
    };
  }

  /** True when the report got a 2xx within Plivo's timeout. */
  async #post(message: MessageState, url: string, params: Record<string, string>): Promise<boolean> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: callbackHeaders(url, params, this.#options.authToken, { v2: true }),
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(REPORT_TIMEOUT_MS)]),
      });
      await response.text();
      if (response.ok) return true;
      this.#say(message, `${params.Status} delivery report answered ${response.status}`);
    } catch (error) {
      if (this.#abort.signal.aborted) throw error;
      this.#say(message, `${params.Status} delivery report failed (${(error as Error).message})`);
    }
    return false;
  }
}
