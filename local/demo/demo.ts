// The demo page's script. The local stack serves it with its types stripped; it only uses the public API
// (with the local API key) and the phone simulator's API, like any app and phone would.

interface SimulatedCall {
  id: string;
  to: string;
  status: string;
  startedAt: string;
  transcript: string;
  digits: string;
  awaitingInput: boolean;
}

interface SimulatedMessage {
  id: string;
  type: 'sms' | 'whatsapp';
  to: string;
  from: string;
  /** Null until the phone received it. */
  text: string | null;
  status: string;
  sentAt: string;
}

/** A PutEvents entry as GET /_simulator/events lists it (what EventBridge would get); oldest first. */
interface BusEntryView {
  source: string;
  'detail-type': string;
  time: string;
  detail: OutcomeEvent;
}

/** An outcome event (schemas/events): the call, message and fallback blocks once they exist. */
interface OutcomeEvent {
  type: string;
  createdAt: string;
  data: {
    verificationId: string;
    status: string;
    channel: string;
    to: string;
    call?: { status: string; durationSeconds: number | null; hangupCause: string | null };
    message?: { status: string; errorCode: string | null };
    fallback?: { channel: string; reason: string };
  };
}

const apiKey = document.querySelector<HTMLMetaElement>('meta[name="api-key"]')?.content ?? '';
const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const phoneInput = byId<HTMLInputElement>('phone');
const localeInput = byId<HTMLSelectElement>('locale');
const codeInput = byId<HTMLInputElement>('code');
const verifyButton = byId<HTMLButtonElement>('verify-button');
const pressButton = byId<HTMLButtonElement>('press-1');
const sendStatus = byId<HTMLParagraphElement>('send-status');
const result = byId<HTMLParagraphElement>('result');
const verificationStatus = byId<HTMLParagraphElement>('verification-status');
const phoneStatus = byId<HTMLParagraphElement>('phone-status');
const transcript = byId<HTMLDivElement>('transcript');
const callOutcome = byId<HTMLParagraphElement>('call-outcome');
const fallbackInput = byId<HTMLInputElement>('fallback');
const sendButton = byId<HTMLButtonElement>('call-button');
const inbox = byId<HTMLOListElement>('inbox');
const inboxStatus = byId<HTMLParagraphElement>('inbox-status');

let verificationId: string | undefined;
let sentAt = '';
let currentCall: SimulatedCall | undefined;
let messages: SimulatedMessage[] = [];
let timer: number | undefined;

async function api(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(path, {
    method,
    headers: { 'x-api-key': apiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const errorText = (body: Record<string, unknown>) =>
  (body.error as { message?: string } | undefined)?.message ?? 'Something went wrong.';

const CHANNELS = {
  voice: { button: 'Call me with a code', verb: 'Calling' },
  sms: { button: 'Text me a code', verb: 'Texting' },
  whatsapp: { button: 'Send me a code on WhatsApp', verb: 'Sending a WhatsApp message to' },
} as const;

type Channel = keyof typeof CHANNELS;

const isChannel = (value: unknown): value is Channel => typeof value === 'string' && value in CHANNELS;

const channel = (): Channel => {
  const value = document.querySelector<HTMLInputElement>('input[name="channel"]:checked')?.value;
  return isChannel(value) ? value : 'voice';
};

for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="channel"]')) {
  radio.addEventListener('change', () => {
    sendButton.textContent = CHANNELS[channel()].button;
  });
}

byId<HTMLFormElement>('send-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  result.textContent = '';
  result.className = 'result';
  transcript.textContent = '';
  callOutcome.textContent = '';
  inbox.replaceChildren();
  currentCall = undefined;
  messages = [];
  sentAt = new Date(Date.now() - 1000).toISOString();
  const response = await api('POST', '/v1/verifications', {
    phone: phoneInput.value.trim(),
    locale: localeInput.value,
    channel: channel(),
    fallback: fallbackInput.checked,
  });
  if (response.status !== 202) {
    // Nothing to follow: the previous verification's polling must not overwrite what this refusal says.
    window.clearInterval(timer);
    verificationId = undefined;
    codeInput.disabled = true;
    verifyButton.disabled = true;
    sendStatus.textContent = `Refused (${response.status}): ${errorText(response.body)}`;
    const code = (response.body.error as { code?: string } | undefined)?.code ?? '';
    callOutcome.textContent = NOT_PLACED[code] ?? '';
    return;
  }
  verificationId = String(response.body.id);
  const verb = isChannel(response.body.channel) ? CHANNELS[response.body.channel].verb : 'Calling';
  sendStatus.textContent = `${verb} ${String(response.body.to)}… verification ${verificationId}, expires ${new Date(String(response.body.expiresAt)).toLocaleTimeString()}.`;
  codeInput.disabled = false;
  verifyButton.disabled = false;
  codeInput.value = '';
  codeInput.focus();
  window.clearInterval(timer);
  timer = window.setInterval(poll, 400);
  void poll();
});

byId<HTMLFormElement>('check-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!verificationId) return;
  const response = await api('POST', '/v1/verifications/check', {
    id: verificationId,
    code: codeInput.value,
  });
  if (response.status !== 200) {
    result.textContent = `Refused (${response.status}): ${errorText(response.body)}`;
    result.className = 'result refused';
    return;
  }
  const { valid, status, attemptsLeft } = response.body;
  result.textContent = valid
    ? 'approved: the number is verified'
    : `refused: ${String(status)}${attemptsLeft === undefined ? '' : `, ${String(attemptsLeft)} attempts left`}`;
  result.className = valid ? 'result approved' : 'result refused';
  void poll();
});

pressButton.addEventListener('click', async () => {
  if (!currentCall) return;
  await fetch(`/_simulator/calls/${currentCall.id}/press`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ digits: '1' }),
  });
});

async function poll() {
  const [calls, sms] = await Promise.all([
    fetch('/_simulator/calls').then((r) => r.json() as Promise<{ calls: SimulatedCall[] }>),
    fetch('/_simulator/messages').then((r) => r.json() as Promise<{ messages: SimulatedMessage[] }>),
  ]);
  const phone = phoneInput.value.trim();
  currentCall = calls.calls.filter((call) => call.to === phone && call.startedAt >= sentAt).at(-1);
  if (currentCall) {
    phoneStatus.textContent = `Call ${currentCall.status}${currentCall.digits ? ` · keys pressed: ${currentCall.digits}` : ''}`;
    transcript.textContent = currentCall.transcript;
    // A call that never connected said nothing: no empty black box, the reason below says why.
    transcript.hidden = currentCall.transcript === '';
    pressButton.disabled = !currentCall.awaitingInput;
  } else {
    phoneStatus.textContent = 'No call yet.';
    pressButton.disabled = true;
  }
  messages = sms.messages.filter((message) => message.to === phone && message.sentAt >= sentAt);
  showInbox();
  if (verificationId) {
    const view = await api('GET', `/v1/verifications/${verificationId}`);
    const call = view.body.call as
      | { status?: string; durationSeconds?: number | null; hangupCause?: string | null }
      | undefined;
    callOutcome.textContent = whyNoCode(currentCall, call);
    const message = view.body.message as
      | { channel?: string; status?: string; errorCode?: string | null }
      | undefined;
    const fallback = view.body.fallback as { channel?: string; reason?: string } | undefined;
    verificationStatus.textContent = [
      `Verification: ${String(view.body.status)}`,
      `attempts left ${String(view.body.attemptsLeft)}`,
      call && `call ${call.status ?? '?'}${call.durationSeconds ? `, ${call.durationSeconds} s` : ''}`,
      message &&
        `${message.channel === 'whatsapp' ? 'WhatsApp' : 'SMS'} ${message.status ?? '?'}${message.errorCode ? ` (error ${message.errorCode})` : ''}`,
      fallback && `fallback to ${fallback.channel ?? '?'}${fallback.reason ? `: ${fallback.reason}` : ''}`,
    ]
      .filter(Boolean)
      .join(' · ');
    // Poll until the verification is settled and neither the phone nor the network has anything left to do.
    const callBusy = currentCall && ['ringing', 'in-progress'].includes(currentCall.status);
    // A delivered WhatsApp message still has its read report to come.
    const smsBusy = messages.some(
      (m) =>
        m.status === 'queued' || m.status === 'sent' || (m.type === 'whatsapp' && m.status === 'delivered'),
    );
    const started = currentCall || messages.length > 0;
    if (started && !callBusy && !smsBusy && view.body.status !== 'pending') window.clearInterval(timer);
  }
}

/** Why a call that never connected read no code, as the phone would know it (busy tone, ringing out...). */
const NEVER_CONNECTED: Record<string, string> = {
  busy: 'The line was busy: the call never connected, so no code was read.',
  'no-answer': 'Nobody answered: the phone rang until the ring timeout, and no code was read.',
  machine: 'An answering machine picked up: the call was ended without reading the code to it.',
  failed: 'The call failed before it connected: no code was read.',
  canceled: 'The call was hung up before the code was read (the verification was canceled or replaced).',
};

/** A send the provider refused before any call rang. */
const NOT_PLACED: Record<string, string> = {
  call_rejected: 'No call was placed: Plivo refused to call this number.',
  telephony_unavailable: 'No call was placed: Plivo could not be reached.',
  message_rejected: 'No SMS was sent: Plivo refused to text this number.',
};

/** What the phone panel says under the transcript once a call ended without reading the code. */
function whyNoCode(
  call: SimulatedCall | undefined,
  recorded: { status?: string; hangupCause?: string | null } | undefined,
): string {
  const cause = recorded?.hangupCause ? ` (Plivo: ${recorded.hangupCause})` : '';
  if (!call) return recorded?.status === 'failed' ? `${NOT_PLACED.call_rejected}${cause}` : '';
  if (['ringing', 'in-progress'].includes(call.status)) return '';
  const why = NEVER_CONNECTED[call.status];
  if (why) return `${why}${cause}`;
  // Completed: answered, but hung up before the code (nothing after the greeting) says so too.
  return /[0-9]/.test(call.transcript) ? '' : `The callee hung up before the code was read.${cause}`;
}

/** The phone's messages since the last send, oldest first: the text once received, else where it stands. */
function showInbox() {
  inboxStatus.hidden = messages.length > 0;
  inbox.replaceChildren(
    ...messages.map((message) => {
      const item = document.createElement('li');
      item.className = message.status;
      item.dataset.type = message.type;
      const meta = document.createElement('div');
      meta.className = 'meta';
      const kind = message.type === 'whatsapp' ? 'WhatsApp' : 'SMS';
      meta.textContent = `${kind} from ${message.from} · ${message.status} · ${new Date(message.sentAt).toLocaleTimeString()}`;
      const text = document.createElement('p');
      text.className = 'sms-text';
      text.textContent =
        message.text ?? (message.status === 'undelivered' ? '(never reached the phone)' : '(on its way…)');
      item.append(meta, text);
      return item;
    }),
  );
}

const eventsList = byId<HTMLOListElement>('events');
const eventsStatus = byId<HTMLParagraphElement>('events-status');
let shownEvents = 0;

/** The event feed, polled on its own: events follow the table's stream, whatever this page sent. */
async function pollEvents() {
  const response = await fetch('/_simulator/events');
  if (!response.ok) {
    eventsStatus.textContent = 'The event feed is not available on this stack.';
    window.clearInterval(eventsTimer);
    return;
  }
  const { events } = (await response.json()) as { events: BusEntryView[] };
  eventsStatus.hidden = events.length > 0;
  // Oldest first and only ever appended to: add the new ones, newest at the top.
  for (const { detail: event } of events.slice(shownEvents)) {
    const item = document.createElement('li');
    item.dataset.type = event.type;
    const meta = document.createElement('div');
    meta.className = 'meta';
    meta.textContent = `${new Date(event.createdAt).toLocaleTimeString()} · ${event.data.verificationId}`;
    const text = document.createElement('p');
    text.className = 'event-text';
    text.textContent = `${event.type}: ${newsOf(event)}`;
    item.append(meta, text);
    eventsList.prepend(item);
  }
  shownEvents = events.length;
}

/** Each event's own news: the call's outcome, the message's status, the fallback; then whose it is. */
function newsOf(event: OutcomeEvent): string {
  const { data } = event;
  const parts: string[] = [];
  if (event.type === 'call.ended' && data.call) {
    const { status, durationSeconds, hangupCause } = data.call;
    parts.push(
      `call ${status}${durationSeconds ? `, ${durationSeconds} s` : ''}${hangupCause ? ` (${hangupCause})` : ''}`,
    );
  } else if (event.type === 'message.status' && data.message) {
    const { status, errorCode } = data.message;
    parts.push(`SMS ${status}${errorCode ? ` (error ${errorCode})` : ''}`);
  } else if (event.type === 'verification.started') {
    parts.push(`code sent by ${data.channel === 'sms' ? 'SMS' : 'call'} to ${data.to}`);
  } else {
    parts.push(`verification ${data.status.replaceAll('_', ' ')}`);
  }
  // The other channel, once the verification used it (or was refused it): on what it delivered or failed.
  if (data.fallback && ['call.ended', 'message.status', 'verification.failed'].includes(event.type)) {
    const { channel, reason } = data.fallback;
    const other = channel === 'sms' ? 'SMS' : 'a call';
    parts.push(`fallback to ${other}: ${reason === 'sent' ? 'sent' : `refused, ${reason}`}`);
  }
  return parts.join(' · ');
}

const eventsTimer = window.setInterval(() => void pollEvents().catch(() => undefined), 1000);
void pollEvents().catch(() => undefined);
