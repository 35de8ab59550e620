import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { APIGatewayClient, GetApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { OperatorError, requireOutput, stackOutputs } from './stack-outputs.ts';

/**
 * `npm run smoke`: the check that a deployment really verifies a phone. It sends a verification (the channel
 * asked for, no fallback, so that channel is what is tested), prints its id and the call's or message's
 * progress, asks for the code heard (a prompt on a terminal, one line on stdin otherwise), checks it and
 * prints the final status with the call's or message's outcome. Exit status 0 only when approved.
 *
 * The API key never comes from the command line (shell history, `ps` and CI logs keep arguments): with
 * `--stack` it is read from API Gateway, otherwise from VOICE_OTP_API_KEY, or asked for, unechoed, on a
 * terminal.
 */
export const API_KEY_VARIABLE = 'VOICE_OTP_API_KEY';
type SmokeChannel = 'voice' | 'sms' | 'whatsapp';

export interface SmokeOptions {
  apiUrl: string;
  apiKey: string;
  phone: string;
  channel: SmokeChannel;
}

export interface SmokeIo {
  /** One line of the code, or undefined when there is none (stdin closed). */
  readCode: () => Promise<string | undefined>;
  print: (line: string) => void;
  /** How often the status is polled while waiting. */
  pollMs: number;
  /** How long to wait for the call or SMS to end after the check. */
  settleMs: number;
}

type Json = Record<string, unknown>;

/** The statuses after which nothing more is reported, per channel (a WhatsApp message goes on to read). */
const ENDED: Record<SmokeChannel, Set<string>> = {
  voice: new Set(['completed', 'busy', 'no-answer', 'failed', 'machine', 'canceled']),
  sms: new Set(['delivered', 'undelivered', 'failed']),
  whatsapp: new Set(['read', 'undelivered', 'failed']),
};

const NOUN: Record<SmokeChannel, string> = { voice: 'call', sms: 'SMS', whatsapp: 'WhatsApp message' };

export async function smoke(options: SmokeOptions, io: SmokeIo): Promise<0 | 1> {
  const base = options.apiUrl.replace(/\/+$/, '');
  const api = async (method: string, path: string, body?: unknown) => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: {
          'x-api-key': options.apiKey,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      throw new OperatorError(`Could not reach the API at ${base} (${cause}): check --api-url.`);
    }
    const text = await response.text();
    let parsed: Json = {};
    try {
      parsed = text ? (JSON.parse(text) as Json) : {};
    } catch {
      throw new OperatorError(
        `${base} answered ${response.status} with something other than JSON: check --api-url.`,
      );
    }
    return { status: response.status, body: parsed };
  };
  const refusal = (status: number, body: Json) => {
    const error = (body.error ?? {}) as { code?: string; message?: string };
    const said = `${status} ${error.code ?? 'error'}${error.message ? `: ${error.message}` : ''}`;
    // A refused key is 403 forbidden (missing, unknown, disabled or rotated away); other 403s name their cause.
    if (status === 401 || (status === 403 && error.code === 'forbidden'))
      return `The API refused the key (${said}). Check ${API_KEY_VARIABLE} (or the stack's API key).`;
    if (error.code === 'route_not_found' || status === 404)
      return `No voice-otp API at ${base} (${said}). Check --api-url: it ends with the stage, such as …/prod.`;
    if (error.code === 'call_rejected' || error.code === 'message_rejected')
      return `Plivo refused the number (${said}). Check the number, the country allowlist and Plivo's geo permissions${options.channel === 'whatsapp' ? ', and that the number is on WhatsApp' : ''}.`;
    if (error.code === 'channel_not_allowed')
      return `The stack does not send on this channel (${said}). For WhatsApp, deploy with whatsappFromNumber and whatsappTemplate (docs/deploying.md, "WhatsApp").`;
    return `The API refused the request (${said}).`;
  };

  const sent = await api('POST', '/v1/verifications', {
    phone: options.phone,
    channel: options.channel,
    fallback: false,
  });
  if (sent.status !== 202) throw new OperatorError(refusal(sent.status, sent.body));
  const id = String(sent.body.id);
  const what = NOUN[options.channel];
  io.print(
    `Verification ${id} started: ${what} to ${String(sent.body.to)}, expires ${String(sent.body.expiresAt)}.`,
  );

  const progressOf = (view: Json) => {
    const block = (options.channel === 'voice' ? view.call : view.message) as Json | undefined;
    return String(block?.status ?? 'unknown');
  };
  let lastProgress = '';
  const report = (view: Json) => {
    const progress = progressOf(view);
    if (progress !== lastProgress) io.print(`  ${what}: ${progress}`);
    lastProgress = progress;
  };
  const status = async () => {
    const view = await api('GET', `/v1/verifications/${id}`);
    if (view.status !== 200) throw new OperatorError(refusal(view.status, view.body));
    return view.body;
  };

  // The progress goes on while the operator listens for the code.
  let waiting = true;
  const watcher = (async () => {
    while (waiting) {
      report(await status());
      await sleep(io.pollMs);
    }
  })();
  const code = await io.readCode().finally(() => {
    waiting = false;
  });
  await watcher;
  if (!code?.trim()) throw new OperatorError('No code was given.');

  const checked = await api('POST', '/v1/verifications/check', { id, code: code.trim() });
  if (checked.status !== 200) throw new OperatorError(refusal(checked.status, checked.body));

  // The call or SMS may still be going on: wait a little for its outcome.
  const ended = ENDED[options.channel];
  const deadline = Date.now() + io.settleMs;
  let view = await status();
  while (!ended.has(progressOf(view)) && Date.now() < deadline) {
    report(view);
    await sleep(io.pollMs);
    view = await status();
  }
  io.print(`Final status: ${String(view.status)}; ${what} ${outcome(view, options.channel)}.`);
  return view.status === 'approved' ? 0 : 1;
}

function outcome(view: Json, channel: SmokeChannel): string {
  if (channel === 'voice') {
    const call = (view.call ?? {}) as Json;
    const parts = [String(call.status ?? 'unknown')];
    if (call.durationSeconds !== undefined) parts.push(`${String(call.durationSeconds)} s`);
    if (call.hangupCause) parts.push(`hangup cause ${String(call.hangupCause)}`);
    return parts.join(', ');
  }
  const message = (view.message ?? {}) as Json;
  const parts = [String(message.status ?? 'unknown')];
  if (channel === 'sms' && message.units !== undefined) parts.push(`${String(message.units)} segment(s)`);
  if (message.errorCode) parts.push(`error code ${String(message.errorCode)}`);
  return parts.join(', ');
}

const isSmokeChannel = (value: unknown): value is SmokeChannel =>
  typeof value === 'string' && Object.hasOwn(NOUN, value);

/** The code from a terminal prompt, or the first line of stdin when it is not a terminal. */
function readCodeFromStdin(channel: SmokeChannel): Promise<string | undefined> {
  const terminal = Boolean(process.stdin.isTTY);
  const lines = createInterface({
    input: process.stdin,
    output: terminal ? process.stdout : undefined,
    terminal,
  });
  return new Promise((resolve) => {
    let answered = false;
    lines.once('line', (line) => {
      answered = true;
      lines.close();
      resolve(line);
    });
    lines.once('close', () => {
      if (!answered) resolve(undefined);
    });
    if (terminal) {
      lines.setPrompt(`Code ${channel === 'voice' ? 'heard' : 'read'}: `);
      lines.prompt();
    } else {
      console.log('Reading the code from stdin (one line)…');
    }
  });
}

/**
 * Where the API key comes from when no stack is named: VOICE_OTP_API_KEY, else a prompt on a terminal.
 * Never an argument: `--api-key` is refused, saying why.
 */
export async function apiKeyFrom(source: {
  argument: string | undefined;
  env: Record<string, string | undefined>;
  terminal: boolean;
  prompt: () => Promise<string>;
}): Promise<string> {
  if (source.argument !== undefined)
    throw new OperatorError(
      `--api-key is not taken: a key on the command line stays in shell history, ps and CI logs. Set ${API_KEY_VARIABLE}, ` +
        'or run on a terminal to be asked for it.',
    );
  const fromEnv = source.env[API_KEY_VARIABLE]?.trim();
  if (fromEnv) return fromEnv;
  if (!source.terminal)
    throw new OperatorError(
      `No API key: set ${API_KEY_VARIABLE} (or use --stack NAME to read the stack's key).`,
    );
  const typed = (await source.prompt()).trim();
  if (!typed) throw new OperatorError('No API key was given.');
  return typed;
}

/** One line from the terminal, not echoed (an API key). */
function promptHidden(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, encoding, done) {
      if (!muted) process.stdout.write(chunk, encoding);
      done();
    },
  });
  const lines = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve) => {
    lines.question(question, (answer) => {
      lines.close();
      process.stdout.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'api-url': { type: 'string' },
      // Read only to refuse it, saying why (apiKeyFrom).
      'api-key': { type: 'string' },
      stack: { type: 'string' },
      phone: { type: 'string' },
      channel: { type: 'string', default: 'voice' },
      help: { type: 'boolean' },
    },
  });
  const usage =
    `Usage: ${API_KEY_VARIABLE}=… npm run smoke -- (--api-url URL | --stack NAME) --phone +1… [--channel voice|sms|whatsapp]` +
    ` (without ${API_KEY_VARIABLE}, on a terminal, it asks for the key)`;
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const channel = values.channel;
  if (!values.phone || !isSmokeChannel(channel)) throw new OperatorError(usage);
  let apiUrl = values['api-url'];
  let apiKey: string;
  if (values.stack && values['api-key'] === undefined) {
    const outputs = await stackOutputs(values.stack);
    apiUrl ??= requireOutput(outputs, 'ApiUrl', values.stack);
    apiKey = await apiKeyValue(requireOutput(outputs, 'ApiKeyId', values.stack));
  } else {
    if (!apiUrl && !values.stack) throw new OperatorError(usage);
    apiKey = await apiKeyFrom({
      argument: values['api-key'],
      env: process.env,
      terminal: Boolean(process.stdin.isTTY),
      prompt: () => promptHidden('API key (not shown): '),
    });
  }
  if (!apiUrl) throw new OperatorError(usage);
  return smoke(
    { apiUrl, apiKey, phone: values.phone, channel },
    {
      readCode: () => readCodeFromStdin(channel),
      print: (line) => console.log(line),
      pollMs: 1000,
      settleMs: 60_000,
    },
  );
}

/** The stack's default API key, as `aws apigateway get-api-key --include-value` reads it. */
async function apiKeyValue(apiKeyId: string, client = new APIGatewayClient({})): Promise<string> {
  try {
    const key = await client.send(new GetApiKeyCommand({ apiKey: apiKeyId, includeValue: true }));
    if (!key.value) throw new Error('no value');
    return key.value;
  } catch (error) {
    throw new OperatorError(`Could not read the API key ${apiKeyId}: ${(error as Error).message}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(error instanceof OperatorError ? error.message : `${error.name}: ${error.message}`);
      process.exit(1);
    },
  );
}
