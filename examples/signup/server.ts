/**
 * A signup backend that verifies the new user's phone with voice-otp, through @voice-otp/client: it starts a
 * verification, checks the code the user typed, receives the outcome webhooks and verifies their signatures,
 * and records the phone as verified. node:http and nothing else, so every step is in plain sight; the same
 * calls go into an Express or Fastify handler unchanged (the webhook route needs the raw body there too).
 *
 *   VOICE_OTP_API_KEY=<key> npm run example          (against `npm start`; see docs/client.md)
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type OutcomeEvent,
  VoiceOtpClient,
  VoiceOtpError,
  verifyWebhook,
  WebhookVerificationError,
} from '@voice-otp/client';
import { pages } from './pages.ts';

const env = process.env;
const apiKey = env.VOICE_OTP_API_KEY ?? '';
if (!apiKey) {
  console.error('Set VOICE_OTP_API_KEY to the API key `npm start` printed (or set API_KEY for both).');
  process.exit(1);
}
const voiceOtp = new VoiceOtpClient({ baseUrl: env.VOICE_OTP_URL ?? 'http://127.0.0.1:3000', apiKey });

/** One person signing up. In a real app: a row in your users table, the verification id beside it. */
export interface Signup {
  id: string;
  name: string;
  phone: string;
  channel: 'voice' | 'sms';
  verificationId: string;
  /** Set once the right code was checked (the check's answer) or the approved event arrived (the webhook). */
  verifiedAt?: string;
  confirmedBy: Set<'check' | 'webhook'>;
  /** What the outcome events said, oldest first, for the page. */
  news: string[];
  /** Kept with the signup, so a retried send never calls twice. */
  idempotencyKey: string;
}

const signups = new Map<string, Signup>();
const byVerification = new Map<string, Signup>();
/** webhook-id values already handled: deliveries are retried with the same id. */
const deliveries = new Set<string>();
let webhookSecret = env.VOICE_OTP_WEBHOOK_SECRET ?? '';

const server = createServer((request, response) => {
  handle(request, response).catch((error: unknown) => {
    console.error('signup example:', error);
    if (!response.headersSent) send(response, 500, pages.message('Something went wrong. Try again.'));
  });
});

async function handle(request: IncomingMessage, response: ServerResponse) {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (request.method === 'GET' && path === '/') return send(response, 200, pages.signupForm());
  if (request.method === 'GET' && path === '/app.js')
    return send(response, 200, pages.script, 'text/javascript');
  if (request.method === 'GET' && path === '/app.css') return send(response, 200, pages.styles, 'text/css');
  if (request.method === 'GET' && path === '/favicon.ico') return send(response, 204, '');
  if (request.method === 'POST' && path === '/signup') return startSignup(request, response);
  if (request.method === 'POST' && path === '/webhooks/voice-otp') return receiveWebhook(request, response);
  if (request.method === 'GET' && path === '/users.json') {
    const users = [...signups.values()].filter((s) => s.verifiedAt);
    return send(response, 200, JSON.stringify({ users: users.map(publicView) }), 'application/json');
  }
  const match = /^\/signup\/([A-Za-z0-9_-]{22})(\/code|\/status\.json)?$/.exec(path);
  const signup = match ? signups.get(match[1] ?? '') : undefined;
  if (!signup) return send(response, 404, pages.message('No such signup.'));
  if (request.method === 'GET' && !match?.[2]) return send(response, 200, pages.signupPage(signup));
  if (request.method === 'GET' && match?.[2] === '/status.json') {
    return send(response, 200, JSON.stringify(publicView(signup)), 'application/json');
  }
  if (request.method === 'POST' && match?.[2] === '/code') return checkCode(signup, request, response);
  return send(response, 405, pages.message('Method not allowed.'));
}

/** POST /signup: start a verification for the phone, then show the page that asks for the code. */
async function startSignup(request: IncomingMessage, response: ServerResponse) {
  const form = new URLSearchParams(await readBody(request));
  const name = (form.get('name') ?? '').trim().slice(0, 100);
  const phone = (form.get('phone') ?? '').trim();
  const channel = form.get('channel') === 'sms' ? 'sms' : 'voice';
  const idempotencyKey = randomBytes(16).toString('base64url');
  try {
    const verification = await voiceOtp.startVerification({ phone, channel }, { idempotencyKey });
    const signup: Signup = {
      id: randomBytes(16).toString('base64url'),
      name,
      phone,
      channel,
      verificationId: verification.id,
      confirmedBy: new Set(),
      news: verification.fallback
        ? [
            `Your ${channel === 'voice' ? 'call' : 'SMS'} could not be sent; the code went by ${verification.fallback.channel} instead.`,
          ]
        : [],
      idempotencyKey,
    };
    signups.set(signup.id, signup);
    byVerification.set(verification.id, signup);
    response.writeHead(303, { location: `/signup/${signup.id}` }).end();
  } catch (error) {
    // The form again, with the reason: a page shown again is no failed request (200).
    send(response, 200, pages.signupForm(refusal(error)));
  }
}

/** POST /signup/:id/code: check the code; the right one verifies the phone. */
async function checkCode(signup: Signup, request: IncomingMessage, response: ServerResponse) {
  const code = new URLSearchParams(await readBody(request)).get('code') ?? '';
  let notice: string | undefined;
  try {
    const result = await voiceOtp.checkCode({ id: signup.verificationId, code });
    if (result.valid) markVerified(signup, 'check');
    else if (result.status === 'pending')
      notice = `That code is not right: ${result.attemptsLeft} attempts left.`;
    else notice = `This code can no longer be used (${result.status.replaceAll('_', ' ')}). Start again.`;
  } catch (error) {
    notice = refusal(error);
  }
  if (notice) return send(response, 200, pages.signupPage(signup, notice));
  response.writeHead(303, { location: `/signup/${signup.id}` }).end();
}

/**
 * POST /webhooks/voice-otp: verify the signature over the raw body first; answer 400 to anything forged or
 * replayed and do nothing else. A retried delivery (same webhook-id) is acknowledged and ignored.
 */
async function receiveWebhook(request: IncomingMessage, response: ServerResponse) {
  const payload = await readBody(request);
  let delivery: { id: string; event: OutcomeEvent };
  try {
    delivery = verifyWebhook(payload, request.headers, webhookSecret);
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    return send(response, 400, 'invalid signature', 'text/plain');
  }
  if (!deliveries.has(delivery.id)) {
    deliveries.add(delivery.id);
    const { event } = delivery;
    const signup = byVerification.get(event.data.verificationId);
    if (signup) {
      signup.news.push(newsOf(event));
      if (event.type === 'verification.approved') markVerified(signup, 'webhook');
    }
  }
  send(response, 204, '');
}

function markVerified(signup: Signup, by: 'check' | 'webhook') {
  signup.verifiedAt ??= new Date().toISOString();
  signup.confirmedBy.add(by);
}

/** What an outcome event means for this user, in words. */
function newsOf(event: OutcomeEvent): string {
  switch (event.type) {
    case 'call.ended': {
      const { status, durationSeconds } = event.data.call;
      if (status === 'completed') return `The call was answered and lasted ${durationSeconds ?? 0} s.`;
      const instead = event.data.fallback?.reason === 'sent' ? ': the code goes by text message instead' : '';
      return `The call did not get through (${status})${instead}.`;
    }
    case 'message.status': {
      const { status } = event.data.message;
      const failed = status === 'failed' || status === 'undelivered';
      const instead =
        failed && event.data.fallback?.reason === 'sent' ? ': we call you with the code instead' : '';
      return `The text message is ${status}${instead}.`;
    }
    case 'verification.approved':
      return 'voice-otp confirmed the phone number (webhook).';
    case 'verification.failed':
      return 'The code could not be delivered.';
    default:
      return `${event.type.replace('verification.', 'Verification ').replaceAll('_', ' ')}.`;
  }
}

/** A sentence for the user, from the API's stable error code. */
function refusal(error: unknown): string {
  if (!(error instanceof VoiceOtpError)) throw error;
  switch (error.code) {
    case 'invalid_phone':
      return 'That does not look like a phone number. Use the international form, like +14155550123.';
    case 'rate_limited':
    case 'daily_call_cap_reached':
      return `Too many codes for now: try again in ${error.retryAfterSeconds ?? 60} seconds.`;
    case 'invalid_code':
      return 'Type the digits you heard or read.';
    case 'unsupported_number_type':
      return 'This number cannot receive text messages: choose a call.';
    case 'country_not_allowed':
    case 'number_blocked':
      return 'We cannot verify this number.';
    default:
      return `The code could not be sent (${error.code}). Try again.`;
  }
}

const publicView = (signup: Signup) => ({
  id: signup.id,
  name: signup.name,
  phone: signup.phone,
  verifiedAt: signup.verifiedAt ?? null,
  confirmedBy: [...signup.confirmedBy].sort(),
  news: signup.news,
});

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, status: number, body: string, type = 'text/html') {
  response.writeHead(status, {
    'content-type': `${type}; charset=utf-8`,
    'content-security-policy': "default-src 'self'; frame-ancestors 'none'",
    'cache-control': 'no-store',
  });
  response.end(body);
}

await new Promise<void>((resolve) => server.listen(Number(env.PORT ?? 4000), '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// The webhook: where voice-otp reaches this server. Locally that is this machine; in production, set it once
// (PUT /v1/webhook) and keep the secret in your secret store as VOICE_OTP_WEBHOOK_SECRET.
if (!webhookSecret) {
  const webhook = await voiceOtp.setWebhook({
    url: `${env.PUBLIC_URL ?? url}/webhooks/voice-otp`,
    events: ['verification.approved', 'verification.failed', 'call.ended', 'message.status'],
  });
  webhookSecret = webhook.secret;
}
console.log(`Signup example on ${url}/ (voice-otp at ${env.VOICE_OTP_URL ?? 'http://127.0.0.1:3000'})`);

const stop = () => server.close(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
