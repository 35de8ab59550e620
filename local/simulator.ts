import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { XMLParser } from 'fast-xml-parser';
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

export type { ApiReply, SimulatorOptions };

/**
 * A phone network in a box that speaks Plivo's protocol: it accepts the Call API request exactly as Plivo
 * does, then plays the call like a callee would — signed answer webhook, Plivo XML interpreted (Speak,
 * GetInput, Wait, Redirect, Hangup), keys pressed through its control API — and ends with a signed hangup
 * webhook carrying Plivo's parameter names. Time is compressed by `speed`.
 */
export type SimCallStatus =
  | 'ringing'
  | 'in-progress'
  | 'completed'
  | 'busy'
  | 'no-answer'
  | 'failed'
  | 'machine'
  | 'canceled';

export interface SimCall {
  id: string;
  to: string;
  from: string;
  status: SimCallStatus;
  startedAt: string;
  transcript: string;
  digits: string;
  awaitingInput: boolean;
}

/** Callees with scripted behaviour (DESIGN.md); any other number answers and listens. */
export const SPECIAL_CALLEES = {
  '+12025550190': 'busy',
  '+12025550191': 'no answer',
  '+12025550192': 'answering machine',
  '+12025550193': 'Plivo rejects the number (4xx)',
  '+12025550194': 'Plivo fails (5xx)',
  '+12025550195': 'Plivo times out',
  '+12025550196': 'hangs up before the code',
} as const;

type Behaviour =
  | 'listen'
  | 'busy'
  | 'no-answer'
  | 'machine'
  | 'reject'
  | 'error'
  | 'timeout'
  | 'early-hangup';

const BEHAVIOURS: Record<string, Behaviour> = {
  '+12025550190': 'busy',
  '+12025550191': 'no-answer',
  '+12025550192': 'machine',
  '+12025550193': 'reject',
  '+12025550194': 'error',
  '+12025550195': 'timeout',
  '+12025550196': 'early-hangup',
};

interface CallState extends SimCall {
  requestUuid: string;
  answerUrl: string;
  /** Asked, like Plivo does, once the answer_url failed. */
  fallbackUrl?: string;
  hangupUrl: string;
  ringTimeout: number;
  machineDetection: boolean;
  /** Simulated seconds since the call was answered. */
  talkSeconds: number;
  answeredAt?: Date;
  press?: (digits: string) => void;
  words: string[];
  /** Aborted when the service hangs the call up through Plivo's API: nothing more is heard. */
  hungUp: AbortController;
}

type XmlNode = Record<string, unknown> & { ':@'?: Record<string, string> };

const xmlParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  trimValues: false,
  parseTagValue: false,
});

const nameOf = (node: XmlNode) => Object.keys(node).find((key) => key !== ':@') ?? '';
const childrenOf = (node: XmlNode) => (node[nameOf(node)] as XmlNode[] | undefined) ?? [];
const attrsOf = (node: XmlNode) => node[':@'] ?? {};

/** SSML to what a listener hears: tags gone, digits kept, pauses written as commas. */
function speech(nodes: XmlNode[]): string {
  let text = '';
  for (const node of nodes) {
    const name = nameOf(node);
    if (name === '#text') text += ` ${String(node['#text'])} `;
    else if (name === 'break') text += ', ';
    else text += ` ${speech(childrenOf(node))} `;
  }
  return text
    .replace(/\s+/g, ' ')
    .replace(/\s+,/g, ',')
    .replace(/,(\s*,)+/g, ',')
    .trim();
}

/** Plivo asks the answer_url this many times before it turns to the fallback_url. */
const ANSWER_ATTEMPTS = 3;

const plivoTime = (date: Date) => date.toISOString().replace('T', ' ').slice(0, 19);

export class PhoneSimulator {
  readonly #options: SimulatorOptions;
  readonly #calls: CallState[] = [];
  readonly #running = new Set<Promise<void>>();
  readonly #abort = new AbortController();

  constructor(options: SimulatorOptions) {
    this.#options = options;
  }

  /** Plivo's Call API: `POST /v1/Account/{authId}/Call/`. */
  async createCall(authorization: string | undefined, authId: string, rawBody: string): Promise<ApiReply> {
    const apiId = randomUUID();
    const refused = authFailure(this.#options, authorization, authId, apiId);
    if (refused) return refused;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(rawBody) as Record<string, unknown>;
    } catch {
      return { status: 400, body: { api_id: apiId, error: 'invalid JSON body' } };
    }
    const to = plivoNumber(body.to);
    const from = plivoNumber(body.from);
    if (!validNumber(to) || !from || typeof body.answer_url !== 'string') {
      return { status: 400, body: { api_id: apiId, error: 'from, to and answer_url are required' } };
    }
    const behaviour = BEHAVIOURS[e164(to)] ?? 'listen';
    if (behaviour === 'reject')
      return { status: 400, body: { api_id: apiId, error: `'${to}' is not a valid phone number` } };
    if (behaviour === 'error')
      return { status: 500, body: { api_id: apiId, error: 'internal server error' } };
    if (behaviour === 'timeout') {
      await sleep(60_000, undefined, { signal: this.#abort.signal }).catch(() => {});
      return { status: 504, body: { api_id: apiId, error: 'gateway timeout' } };
    }
    // Two ids, as Plivo documents them: the API request's request_uuid (returned here) and the call's own
    // CallUUID (sent to the answer, ring and hangup URLs, and what the live-call API takes). Never equal.
    const requestUuid = randomUUID();
    const call: CallState = {
      id: randomUUID(),
      requestUuid,
      to: e164(to),
      from: e164(from),
      status: 'ringing',
      startedAt: new Date().toISOString(),
      transcript: '',
      digits: '',
      awaitingInput: false,
      answerUrl: body.answer_url,
      ...(typeof body.fallback_url === 'string' && { fallbackUrl: body.fallback_url }),
      hangupUrl: typeof body.hangup_url === 'string' ? body.hangup_url : body.answer_url,
      ringTimeout: Number(body.ring_timeout ?? 120),
      machineDetection: body.machine_detection === 'hangup' || body.machine_detection === 'true',
      talkSeconds: 0,
      words: [],
      hungUp: new AbortController(),
    };
    this.#calls.push(call);
    const run = this.#play(call, behaviour).catch((error: unknown) => {
      if (!call.hungUp.signal.aborted) this.#say(call, `call broke off: ${(error as Error).message}`);
    });
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
    return { status: 201, body: { api_id: apiId, message: 'call fired', request_uuid: requestUuid } };
  }

  /**
   * Plivo's hang-ups: `DELETE /v1/Account/{authId}/Request/{request_uuid}/` cancels a call not answered yet
   * (by the request's id), `DELETE /v1/Account/{authId}/Call/{call_uuid}/` ends a live one, ringing or answered
   * (by the call's own CallUUID); 404 for an id Plivo knows no such call by (or a call over). The call ends
   * `canceled` and its hangup webhook says so; from then on it hears nothing.
   */
  async hangUp(
    authorization: string | undefined,
    authId: string,
    api: 'Request' | 'Call',
    uuid: string,
  ): Promise<ApiReply> {
    const apiId = randomUUID();
    const refused = authFailure(this.#options, authorization, authId, apiId);
    if (refused) return refused;
    const call =
      api === 'Request'
        ? this.#calls.find((c) => c.requestUuid === uuid && c.status === 'ringing')
        : this.#live().find((c) => c.id === uuid);
    if (!call || call.hungUp.signal.aborted)
      return { status: 404, body: { api_id: apiId, error: 'not found' } };
    call.hungUp.abort();
    this.#say(call, api === 'Request' ? 'call request canceled' : 'hung up through the API');
    await this.#end(call, 'canceled', {
      HangupCause: 'ORIGINATOR_CANCEL',
      HangupCauseName: 'Cancelled Call',
      HangupCauseCode: '1010',
      HangupSource: 'API Request',
    });
    return { status: 204, body: '' };
  }

  /**
   * Plivo's live calls: `GET /v1/Account/{authId}/Call/?status=live`, optionally filtered by `call_direction`,
   * `from_number` and `to_number` (digits, exact or a prefix), lists the CallUUIDs of the calls ringing or in
   * progress; `GET /v1/Account/{authId}/Call/{call_uuid}/?status=live` describes one, its request_uuid
   * included, or answers 404 once it is over.
   */
  liveCalls(authorization: string | undefined, authId: string, query: URLSearchParams): ApiReply {
    const apiId = randomUUID();
    const refused = authFailure(this.#options, authorization, authId, apiId);
    if (refused) return refused;
    if (query.get('status') !== 'live')
      return { status: 400, body: { api_id: apiId, error: 'status must be live' } };
    const direction = query.get('call_direction');
    const from = query.get('from_number');
    const to = query.get('to_number');
    const calls = this.#live().filter(
      (call) =>
        (!direction || direction === 'outbound') &&
        (!from || plivoNumber(call.from).startsWith(plivoNumber(from))) &&
        (!to || plivoNumber(call.to).startsWith(plivoNumber(to))),
    );
    return { status: 200, body: { api_id: apiId, calls: calls.map((call) => call.id) } };
  }

  liveCall(
    authorization: string | undefined,
    authId: string,
    callUuid: string,
    query: URLSearchParams,
  ): ApiReply {
    const apiId = randomUUID();
    const refused = authFailure(this.#options, authorization, authId, apiId);
    if (refused) return refused;
    const call = this.#live().find((c) => c.id === callUuid);
    if (query.get('status') !== 'live' || !call)
      return { status: 404, body: { api_id: apiId, error: 'not found' } };
    return {
      status: 200,
      body: {
        api_id: apiId,
        direction: 'outbound',
        from: plivoNumber(call.from),
        to: plivoNumber(call.to),
        call_status: call.status,
        caller_name: call.from,
        call_uuid: call.id,
        request_uuid: call.requestUuid,
        session_start: call.startedAt.replace('T', ' ').replace('Z', ''),
      },
    };
  }

  /** Ringing or answered, and not hung up: what Plivo calls live. */
  #live() {
    return this.#calls.filter(
      (call) => (call.status === 'ringing' || call.status === 'in-progress') && !call.hungUp.signal.aborted,
    );
  }

  /** `GET /_simulator/calls`, oldest first. */
  calls(): SimCall[] {
    return this.#calls.map(({ id, to, from, status, startedAt, transcript, digits, awaitingInput }) => ({
      id,
      to,
      from,
      status,
      startedAt,
      transcript,
      digits,
      awaitingInput,
    }));
  }

  /** `POST /_simulator/calls/{id}/press`: true while a GetInput is waiting. */
  press(id: string, digits: string): boolean {
    const call = this.#calls.find((c) => c.id === id);
    if (!call?.press) return false;
    call.press(digits);
    return true;
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.allSettled([...this.#running]);
  }

  async #wait(simulatedSeconds: number, call?: CallState) {
    const signal = call ? AbortSignal.any([this.#abort.signal, call.hungUp.signal]) : this.#abort.signal;
    await sleep((simulatedSeconds * 1000) / this.#options.speed, undefined, { signal });
  }

  #say(call: CallState, line: string) {
    this.#options.log(`[simulated phone ${mask(call.to)}] ${line}`);
  }

  async #play(call: CallState, behaviour: Behaviour) {
    this.#say(call, 'ringing');
    await this.#wait(behaviour === 'no-answer' ? call.ringTimeout : 3, call);
    if (behaviour === 'busy')
      return this.#end(call, 'busy', {
        HangupCause: 'USER_BUSY',
        HangupCauseName: 'Busy Line',
        HangupCauseCode: '3010',
      });
    if (behaviour === 'no-answer')
      return this.#end(call, 'no-answer', {
        HangupCause: 'NO_ANSWER',
        HangupCauseName: 'No Answer',
        HangupCauseCode: '3000',
      });
    call.status = 'in-progress';
    call.answeredAt = new Date();
    if (behaviour === 'machine') {
      this.#say(call, 'answering machine picked up');
      if (call.machineDetection) {
        await this.#wait(4, call);
        call.talkSeconds += 4;
        return this.#end(
          call,
          'machine',
          { HangupCause: 'MACHINE_DETECTED', HangupCauseName: 'Machine Detected', HangupCauseCode: '4000' },
          { Machine: 'true' },
        );
      }
    } else {
      this.#say(call, 'answered');
    }
    const document = await this.#answer(call);
    if (behaviour === 'early-hangup') {
      call.talkSeconds += 1;
      this.#say(call, 'hung up before the code');
      return this.#end(call, 'completed', {
        HangupCause: 'NORMAL_CLEARING',
        HangupCauseName: 'Normal Hangup',
        HangupCauseCode: '4000',
        HangupSource: 'Callee',
      });
    }
    // Interpret Plivo XML until a Hangup, the end of the document, or a broken webhook.
    let next: XmlNode[] | 'hangup' | 'end' | 'broken' = document ?? 'broken';
    for (let documents = 0; Array.isArray(next) && documents < 50; documents++)
      next = await this.#run(call, next);
    const cause =
      next === 'hangup'
        ? { HangupCauseName: 'Normal Hangup', HangupCauseCode: '4000', HangupSource: 'Answer XML' }
        : next === 'broken'
          ? { HangupCauseName: 'Error Reaching Answer URL', HangupCauseCode: '7011', HangupSource: 'Error' }
          : {
              HangupCauseName: 'End Of XML Instructions',
              HangupCauseCode: '4010',
              HangupSource: 'Answer XML',
            };
    return this.#end(call, 'completed', { HangupCause: 'NORMAL_CLEARING', ...cause });
  }

  /**
   * Like Plivo: the answer_url is tried up to three times for a valid XML document, then the fallback_url
   * once; null when all failed.
   */
  async #answer(call: CallState): Promise<XmlNode[] | null> {
    for (let attempt = 1; attempt <= ANSWER_ATTEMPTS; attempt++) {
      const document = await this.#webhook(call, call.answerUrl, { Event: 'StartApp' });
      if (document) return document;
    }
    if (!call.fallbackUrl) return null;
    this.#say(call, 'answer URL failed; trying the fallback URL');
    return this.#webhook(call, call.fallbackUrl, { Event: 'StartApp' });
  }

  /** Runs one XML document; returns the next document (after a redirect) or how the call ended. */
  async #run(call: CallState, document: XmlNode[]): Promise<XmlNode[] | 'hangup' | 'end' | 'broken'> {
    const response = document.find((node) => nameOf(node) === 'Response');
    for (const element of response ? childrenOf(response) : []) {
      const name = nameOf(element);
      const attributes = attrsOf(element);
      if (name === 'Speak') {
        await this.#hear(call, speech(childrenOf(element)));
      } else if (name === 'Wait') {
        await this.#wait(Number(attributes.length ?? 1), call);
        call.talkSeconds += Number(attributes.length ?? 1);
      } else if (name === 'GetInput' || name === 'GetDigits') {
        // Like Plivo, keys count from the start of the prompt, not only after it.
        const pressed = this.#listenForKeys(call);
        for (const prompt of childrenOf(element).filter((child) => nameOf(child) === 'Speak')) {
          await this.#hear(call, speech(childrenOf(prompt)));
        }
        const digits = await this.#awaitKeys(
          call,
          pressed,
          Number(attributes.executionTimeout ?? attributes.timeout ?? 15),
        );
        if (digits !== undefined) {
          const numDigits = Number(attributes.numDigits ?? 32);
          const next = await this.#webhook(call, attributes.action ?? call.answerUrl, {
            Digits: digits.slice(0, numDigits),
            InputType: 'dtmf',
          });
          if (attributes.redirect !== 'false') return next ?? 'broken';
        }
      } else if (name === 'Redirect') {
        return (
          (await this.#webhook(call, String((element[name] as XmlNode[])[0]?.['#text'] ?? ''), {})) ??
          'broken'
        );
      } else if (name === 'Hangup') {
        return 'hangup';
      }
    }
    return 'end';
  }

  async #hear(call: CallState, spoken: string) {
    // A call hung up through the API hears nothing more, whatever answer was still on its way.
    call.hungUp.signal.throwIfAborted();
    if (!spoken) return;
    // Each Speak is a sentence of its own in the transcript.
    const text = /[.!?。।]$/.test(spoken) ? spoken : `${spoken}.`;
    call.words.push(text);
    call.transcript = call.words.join(' ');
    this.#say(call, `heard: "${text}"`);
    // About 2.5 words a second at a slow rate, plus the pauses written as commas.
    const seconds = text.split(/\s+/).length / 2.5 + (text.match(/,/g)?.length ?? 0) * 0.7;
    await this.#wait(seconds, call);
    call.talkSeconds += seconds;
  }

  #listenForKeys(call: CallState): Promise<string> {
    call.awaitingInput = true;
    return new Promise<string>((resolve) => {
      call.press = resolve;
    });
  }

  async #awaitKeys(
    call: CallState,
    pressed: Promise<string>,
    timeoutSeconds: number,
  ): Promise<string | undefined> {
    const timer = new AbortController();
    const timeout = sleep((timeoutSeconds * 1000) / this.#options.speed, undefined, {
      signal: AbortSignal.any([this.#abort.signal, timer.signal, call.hungUp.signal]),
    }).then(
      () => undefined,
      () => undefined,
    );
    const digits = await Promise.race([pressed, timeout]);
    // A key ended the wait: stop its timer rather than leave it running to no one.
    timer.abort();
    call.awaitingInput = false;
    call.press = undefined;
    if (digits === undefined) {
      call.talkSeconds += timeoutSeconds;
      return undefined;
    }
    call.digits += digits;
    this.#say(call, `pressed ${digits}`);
    return digits;
  }

  #baseParams(call: CallState): Record<string, string> {
    return {
      CallUUID: call.id,
      ALegUUID: call.id,
      RequestUUID: call.requestUuid,
      ALegRequestUUID: call.requestUuid,
      From: plivoNumber(call.from),
      To: plivoNumber(call.to),
      Direction: 'outbound',
      CallStatus: call.status,
      SessionStart: call.startedAt.replace('T', ' ').replace('Z', ''),
    };
  }

  /** POSTs a signed webhook and parses its XML; null ends the call (like Plivo's 7011/8011 causes). */
  async #webhook(call: CallState, url: string, extra: Record<string, string>): Promise<XmlNode[] | null> {
    const params = { ...this.#baseParams(call), ...extra };
    try {
      const response = await this.#post(url, params);
      const text = await response.text();
      if (!response.ok) {
        this.#say(call, `webhook answered ${response.status}`);
        return null;
      }
      return xmlParser.parse(text) as XmlNode[];
    } catch (error) {
      if (this.#abort.signal.aborted) throw error;
      this.#say(call, `webhook failed (${(error as Error).message})`);
      return null;
    }
  }

  #post(url: string, params: Record<string, string>) {
    return fetch(url, {
      method: 'POST',
      headers: callbackHeaders(url, params, this.#options.authToken),
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(15_000)]),
    });
  }

  async #end(
    call: CallState,
    status: SimCallStatus,
    cause: Record<string, string>,
    extra: Record<string, string> = {},
  ) {
    // Hung up through the API while its script was still running: that hang-up ended it.
    if (call.hungUp.signal.aborted && status !== 'canceled') return;
    call.status = status;
    call.awaitingInput = false;
    const end = new Date();
    const duration = Math.round(call.talkSeconds);
    const billDuration = duration === 0 ? 0 : Math.ceil(duration / 60) * 60;
    this.#say(call, `call ended: ${status}${duration ? `, ${duration} s` : ''}`);
    const plivoStatus = status === 'machine' ? 'completed' : status;
    const params = {
      ...this.#baseParams(call),
      CallStatus: plivoStatus,
      Event: 'Hangup',
      Duration: String(duration),
      BillDuration: String(billDuration),
      BillRate: '0.00850',
      TotalCost: ((billDuration / 60) * 0.0085).toFixed(5),
      HangupSource: 'Callee',
      StartTime: plivoTime(new Date(call.startedAt)),
      AnswerTime: call.answeredAt ? plivoTime(call.answeredAt) : '',
      EndTime: plivoTime(end),
      ...cause,
      ...extra,
    };
    try {
      const response = await this.#post(call.hangupUrl, params);
      await response.text();
    } catch (error) {
      if (!this.#abort.signal.aborted) this.#say(call, `hangup webhook failed: ${(error as Error).message}`);
    }
  }
}
