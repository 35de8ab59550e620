import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_WHATSAPP_LANGUAGES } from '#platform/config.ts';
import { MessageSimulator } from '../local/message-simulator.ts';
import type { ApiReply } from '../local/plivo-wire.ts';
import { PhoneSimulator } from '../local/simulator.ts';
import { BENCH_WHATSAPP } from './events.ts';

/**
 * Plivo's Call and Message APIs for the send function, served by the local phone simulator on 127.0.0.1:
 * the function sends exactly the request it sends Plivo and gets Plivo's answer. The callees are slow on
 * purpose (a simulated second lasts 1000 real ones), so no call is answered while the benchmark runs and no
 * webhook traffic from the simulator disturbs a measurement; stop() hangs every call up. For the same
 * reason the simulator posts no delivery reports: they would go to PUBLIC_URL, which nothing serves here,
 * and the benchmark measures delivery reports itself, as signed events (bench/warm.ts). The same server
 * answers EventBridge's PutEvents for the events function, accepting every entry, and is the app's webhook
 * receiver for the deliver function (POST WEBHOOK_RECEIVER_PATH, answered 204 and counted).
 */
export interface PlivoApi {
  apiUrl: string;
  authId: string;
  authToken: string;
  callsPlaced(): number;
  /** Webhook deliveries received at `${apiUrl}${WEBHOOK_RECEIVER_PATH}`. */
  webhooksReceived(): number;
  stop(): Promise<void>;
}

export const WEBHOOK_RECEIVER_PATH = '/bench/webhooks';

const SLOW_CALLEES = 0.001;

/** The Message API request without its delivery-report URL (the simulator posts reports only when given one). */
function withoutReportUrl(rawBody: string): string {
  try {
    const { url: _reportUrl, ...body } = JSON.parse(rawBody) as Record<string, unknown>;
    return JSON.stringify(body);
  } catch {
    // Not JSON: the simulator answers it as Plivo would.
    return rawBody;
  }
}

export async function startPlivoApi(): Promise<PlivoApi> {
  const authId = `MABENCH${randomBytes(7).toString('hex').toUpperCase()}`;
  const authToken = randomBytes(24).toString('base64url');
  const options = { authId, authToken, speed: SLOW_CALLEES, log: () => {} };
  const calls = new PhoneSimulator(options);
  const sms = new MessageSimulator(options, {
    number: BENCH_WHATSAPP.number,
    templates: [
      {
        name: BENCH_WHATSAPP.template,
        languages: Object.values(DEFAULT_WHATSAPP_LANGUAGES),
        securityRecommendation: true,
        // BENCH_SETTINGS' CODE_TTL_SECONDS, in minutes.
        codeExpirationMinutes: 60,
      },
    ],
  });
  let placed = 0;
  let webhooks = 0;
  const route = (method: string | undefined, url: string, auth: string | undefined, body: string) => {
    const api = /^\/v1\/Account\/([^/]+)\/(Call|Message)\/$/.exec(url);
    if (!api || method !== 'POST')
      return Promise.resolve<ApiReply>({ status: 404, body: { error: 'not found' } });
    return api[2] === 'Call'
      ? calls.createCall(auth, api[1] ?? '', body)
      : sms.createMessage(auth, api[1] ?? '', withoutReportUrl(body));
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      // EventBridge's PutEvents for the events function (AWS_ENDPOINT_URL_EVENTBRIDGE): every entry accepted.
      if (request.headers['x-amz-target'] === 'AWSEvents.PutEvents') {
        const entries = (JSON.parse(body) as { Entries?: unknown[] }).Entries ?? [];
        response.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' });
        response.end(
          JSON.stringify({
            FailedEntryCount: 0,
            Entries: entries.map((_, i) => ({ EventId: `bench-${i}` })),
          }),
        );
        return;
      }
      if (request.method === 'POST' && request.url === WEBHOOK_RECEIVER_PATH) {
        webhooks++;
        response.writeHead(204).end();
        return;
      }
      void route(request.method, request.url ?? '', request.headers.authorization, body).then(
        ({ status, body }) => {
          if (status === 201) placed++;
          response.writeHead(status, { 'Content-Type': 'application/json' });
          response.end(JSON.stringify(body));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    authId,
    authToken,
    callsPlaced: () => placed,
    webhooksReceived: () => webhooks,
    async stop() {
      await Promise.all([calls.stop(), sms.stop()]);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
