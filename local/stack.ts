import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { transform } from 'esbuild';
import { telephonyFor } from '#channels/plivo-calls.ts';
import { endpointCircuit } from '#events/endpoint-circuit.ts';
import { recordingSink } from '#events/eventbridge-sink.ts';
import type { EventSink } from '#events/outcome-events.ts';
import { createDeliverHandler } from '#events/webhook-delivery.ts';
import { createWebhookSink } from '#events/webhook-sink.ts';
import { type Config, tenantLimits } from '#platform/config.ts';
import { ApiError, apiKeyRefused, retryAfterSeconds } from '#platform/errors.ts';
import { errorResponse, type HttpEvent, type HttpResult } from '#platform/http.ts';
import { newKeyRingSecret } from '#platform/keyring.ts';
import type { ApiFunctionName } from '#platform/routes.ts';
import { containerFromEnvironment } from '#platform/runtime.ts';
import {
  DEFAULT_ENDPOINT_CREDENTIALS,
  openTable,
  STORE_TIME_BUDGET,
  type StoreTimeBudget,
} from '#store/dynamodb-client.ts';
import { dynamoDbStore } from '#store/dynamodb-store.ts';
import type { AdminDeps } from '#verification/tenant-admin.ts';
import { createAnswerHandler } from '../functions/answer.ts';
import { createEventsHandler } from '../functions/events.ts';
import { createHangupHandler } from '../functions/hangup.ts';
import { createSendHandler } from '../functions/send.ts';
import { createVerifyHandler } from '../functions/verify.ts';
import { LocalApiKeys } from './api-keys.ts';
import { LocalDeliveryQueue } from './delivery-queue.ts';
import { createTable, type DynamoDbLocal, startDynamoDbLocal, warmUpDynamoDb } from './dynamodb-local.ts';
import { exchangeRecorder } from './exchange-log.ts';
import {
  GATEWAY_MAX_PAYLOAD_BYTES,
  localHosts,
  matchRoute,
  misdirected,
  mockAccepts,
  toProxyEvent,
} from './gateway.ts';
import { MessageSimulator, type SimulatedWhatsApp } from './message-simulator.ts';
import { operatorRoute } from './operator.ts';
import { PhoneSimulator } from './simulator.ts';
import { pollStream, StreamReader } from './stream-reader.ts';

/**
 * The whole service on one port: the same handler code the Lambdas run, behind a local stand-in for API
 * Gateway, on DynamoDB Local, with the Plivo phone simulator (or real Plivo) and the demo page.
 */
export interface LocalStackOptions {
  /** 0 picks a free port. */
  port: number;
  env: Record<string, string | undefined>;
  log: (line: string) => void;
}

export interface LocalStack {
  url: string;
  apiKey: string;
  mode: 'simulated' | 'real';
  /** Milliseconds from the call until /health answered 200. */
  startupMs: number;
  /** App webhooks: the sink the events function publishes to, over the local delivery queue. */
  webhookSink: EventSink;
  stop(): Promise<void>;
}

export { LOCAL_API_KEY_ID } from './api-keys.ts';

const REAL_MODE_SETTINGS = ['PLIVO_AUTH_ID', 'PLIVO_AUTH_TOKEN', 'PLIVO_FROM_NUMBER', 'PUBLIC_URL'] as const;
const DEMO_DIR = new URL('./demo/', import.meta.url);

/**
 * The store's calls here may take 5 s to connect and 5 s to answer, not 0.5 s and 1 s. STORE_TIME_BUDGET keeps
 * a Lambda container, which serves one request at a time against DynamoDB's milliseconds, inside its
 * timeout; the local stack serves every request from one process, on the cores DynamoDB Local's JVM also
 * needs. Measured on 2 cores, 48 parallel sends right after a warm start: 400 to 1,400 ms per call, new
 * connections refused the 500 ms connect budget while the JVM was busy, and 2 to 11 sends in 3 runs of 7
 * answered 503 though nothing had failed. A store that stops answering is still a 503, within half a minute.
 */
export const LOCAL_STORE_TIME_BUDGET: StoreTimeBudget = {
  ...STORE_TIME_BUDGET,
  connectMs: 5000,
  requestMs: 5000,
};

type Handler = (event: HttpEvent) => Promise<HttpResult>;

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const started = Date.now();
  const { env, log } = options;
  const mode = REAL_MODE_SETTINGS.every((name) => env[name]) ? 'real' : 'simulated';
  const apiKey = env.API_KEY || `local-${randomBytes(12).toString('base64url')}`;
  let handlers: Record<ApiFunctionName, Handler> | undefined;
  let apiKeys: LocalApiKeys | undefined;
  let admin: AdminDeps | undefined;
  let simulator: Phone | undefined;
  // The local stand-in for the EventBridge bus: what would have been put on it (GET /_simulator/events).
  const bus = recordingSink();
  let poller: { stop(): Promise<void> } | undefined;
  let demo: Demo | undefined;
  let deliveries: LocalDeliveryQueue | undefined;
  let webhookSink: EventSink | undefined;
  const recordExchange = env.EXCHANGE_LOG ? exchangeRecorder(env.EXCHANGE_LOG) : undefined;

  // A request without Host is refused by the Host check below, in the contract's shape, not by Node's bare 400.
  const server = createServer({ requireHostHeader: false }, (request, response) => {
    serve(request, response).catch((error: unknown) => {
      log(`local gateway error: ${(error as Error).message}`);
      if (!response.headersSent)
        send(response, errorResponse(new ApiError(500, 'internal_error', 'Local gateway error.')));
    });
  });

  async function serve(request: IncomingMessage, response: ServerResponse) {
    const startedAt = Date.now();
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = request.method ?? 'GET';
    // Before anything else: a page on another site that rebinds its DNS name to 127.0.0.1 would otherwise
    // read the demo page (which holds the API key) and the simulator's transcripts.
    if (!allowedHosts.has(request.headers.host?.toLowerCase() ?? '')) {
      const refused = misdirected(allowedHosts);
      send(response, refused);
      recordExchange?.(method, url.pathname, refused);
      return;
    }
    const body = await readBody(request);
    const { result, api } = await route(request, url, method, body);
    send(response, result);
    if (api) recordExchange?.(method, url.pathname, result);
    // The path only: webhook queries carry sealed tokens.
    if (!url.pathname.startsWith('/_simulator') && url.pathname !== '/health') {
      log(`${method} ${url.pathname} → ${result.statusCode} (${Date.now() - startedAt} ms)`);
    }
  }

  /** The answer, and whether the API gave it (not the simulator, the demo page or /health). */
  async function route(
    request: IncomingMessage,
    url: URL,
    method: string,
    body: Buffer | null,
  ): Promise<{ result: HttpResult; api: boolean }> {
    const path = url.pathname;
    if (path === '/health') {
      return {
        result: handlers ? json(200, { status: 'ok', mode }) : json(503, { status: 'starting' }),
        api: false,
      };
    }
    // The operator's routes (npm run tenants -- --local), for this machine's loopback names only: never
    // through PUBLIC_URL's tunnel.
    if (admin && body !== null && loopbackHosts.has(request.headers.host?.toLowerCase() ?? '')) {
      const operator = await operatorRoute(admin, request, method, url, body);
      if (operator) return { result: operator, api: false };
    }
    if (simulator && demo && body !== null) {
      const local = await simulatorRoutes({ ...simulator, bus }, demo, request, method, path, body);
      if (local) return { result: local, api: false };
    }
    return { result: await routeApi(request, url, method, body), api: true };
  }

  /** What API Gateway and the handlers answer. */
  async function routeApi(
    request: IncomingMessage,
    url: URL,
    method: string,
    body: Buffer | null,
  ): Promise<HttpResult> {
    if (body === null)
      return errorResponse(new ApiError(413, 'payload_too_large', 'The request is larger than 10 MB.'));
    const path = url.pathname;
    if (!handlers || !apiKeys || !admin) {
      return errorResponse(
        new ApiError(503, 'store_unavailable', 'The local stack is still starting.', retryAfterSeconds(1)),
      );
    }
    const match = matchRoute(method, path);
    if (match.kind === 'not_found')
      return errorResponse(new ApiError(404, 'route_not_found', 'No such route.'));
    if (match.kind === 'bad_path') {
      return errorResponse(new ApiError(400, 'invalid_request', 'The path is not valid percent-encoding.'));
    }
    const needsKey = (match.kind === 'route' ? [match.route] : match.routes).some(
      (r) => r.auth === 'api-key',
    );
    // Like the usage plan: the key is checked before anything else on app routes; API Gateway answers a
    // missing, unknown, disabled or rotated-away key alike (INVALID_API_KEY, infra/api.ts).
    const presented = request.headers['x-api-key'];
    const key = needsKey
      ? apiKeys.authenticate(typeof presented === 'string' ? presented : undefined)
      : undefined;
    if (needsKey && !key) return errorResponse(apiKeyRefused());
    if (match.kind === 'method_not_allowed') {
      // API Gateway's 405 is a mock integration that maps only the API's own media types: others get 415.
      if (!mockAccepts(request.headers['content-type'])) {
        return errorResponse(
          new ApiError(415, 'unsupported_media_type', 'This content type is not supported here.'),
        );
      }
      return errorResponse(new ApiError(405, 'method_not_allowed', `${method} is not allowed on ${path}.`));
    }
    const event = toProxyEvent(request, url, body, match, key ?? null);
    return handlers[match.route.function](event);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const allowedHosts = localHosts(port, mode === 'real' ? env.PUBLIC_URL : undefined);
  const loopbackHosts = localHosts(port);

  let dynamodb: DynamoDbLocal | undefined;
  try {
    const serviceEnv: Record<string, string | undefined> = {
      ...env,
      TABLE_NAME: env.TABLE_NAME || 'voice-otp-local',
      KEYRING: env.KEYRING || newKeyRingSecret(),
      // App webhooks to receivers on this machine (http://127.0.0.1, http://localhost); off on AWS.
      WEBHOOK_ALLOW_LOCALHOST: env.WEBHOOK_ALLOW_LOCALHOST || 'true',
    };
    if (!env.DYNAMODB_ENDPOINT) {
      dynamodb = await startDynamoDbLocal();
      // The service reaches it as it would an external endpoint: with this run's random key pair.
      Object.assign(serviceEnv, {
        DYNAMODB_ENDPOINT: dynamodb.endpoint,
        AWS_ACCESS_KEY_ID: dynamodb.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: dynamodb.credentials.secretAccessKey,
      });
      if (mode === 'real') log(dynamoDbLocalWarning(dynamodb.endpoint));
    }
    if (mode === 'simulated') {
      const authId = `MALOCAL${randomBytes(7).toString('hex').toUpperCase()}`;
      const authToken = randomBytes(24).toString('base64url');
      Object.assign(serviceEnv, {
        PUBLIC_URL: url,
        PLIVO_API_URL: `${url}/_plivo`,
        PLIVO_AUTH_ID: authId,
        PLIVO_AUTH_TOKEN: authToken,
        PLIVO_FROM_NUMBER: env.PLIVO_FROM_NUMBER || '+14155550100',
        // WhatsApp on, with placeholders the simulated account knows: its Business number and template.
        WHATSAPP_FROM_NUMBER: env.WHATSAPP_FROM_NUMBER || LOCAL_WHATSAPP.number,
        WHATSAPP_TEMPLATE: env.WHATSAPP_TEMPLATE || LOCAL_WHATSAPP.template,
      });
      demo = await loadDemo(apiKey);
    }
    const container = containerFromEnvironment(serviceEnv);
    if (mode === 'simulated') {
      const simulatorOptions = {
        authId: serviceEnv.PLIVO_AUTH_ID ?? '',
        authToken: serviceEnv.PLIVO_AUTH_TOKEN ?? '',
        speed: Number(env.SIMULATOR_SPEED || 10),
        log,
      };
      simulator = {
        calls: new PhoneSimulator(simulatorOptions),
        messages: new MessageSimulator(simulatorOptions, approvedTemplate(container.config)),
      };
    }
    const { dynamodbEndpoint, tableName } = container.config;
    const connection = {
      endpoint: dynamodbEndpoint ?? '',
      credentials: container.config.dynamodbCredentials ?? DEFAULT_ENDPOINT_CREDENTIALS,
    };
    await createTable(connection, tableName ?? '').catch((error: Error) => {
      if (error.name !== 'ResourceInUseException') throw error;
    });
    const table = openTable(container.config, LOCAL_STORE_TIME_BUDGET);
    const store = dynamoDbStore(table);
    // Ready means ready for a burst (a test suite's first parallel sends), not only up.
    const warm = await warmUpDynamoDb(connection, table.tableName);
    log(
      warm.warm
        ? `DynamoDB Local warmed up: ${warm.rounds} burst(s) of 48 sends' requests, the slowest request of the last ${warm.slowestMs} ms`
        : `DynamoDB Local warmed up as far as this busy machine allows: ${warm.rounds} burst(s), the slowest request of the last ${warm.slowestMs} ms`,
    );
    const telephony = telephonyFor(container);
    // API Gateway's keys, locally: the stack's first key is API_KEY (id `local`); npm run tenants adds more.
    apiKeys = await LocalApiKeys.open(connection, tableName ?? '', apiKey);
    admin = {
      store,
      keys: apiKeys,
      secrets: container.secrets,
      limits: tenantLimits(container.config),
      counterShards: container.config.abuse.counterShards,
      clock: container.clock,
    };
    handlers = {
      send: createSendHandler({ ...container, store, telephony }),
      verify: createVerifyHandler({ ...container, store }),
      answer: createAnswerHandler({ ...container, store }),
      hangup: createHangupHandler({ ...container, publicUrl: container.config.publicUrl, store, telephony }),
    };
    // The deliver function's handler over a local stand-in for its SQS queue, on the same schedule (time
    // compressed WEBHOOK_RETRY_SPEED times, for tests).
    const queue = new LocalDeliveryQueue({
      speed: Number(env.WEBHOOK_RETRY_SPEED || 1),
      handler: (event) => deliver(event),
    });
    const deliver = createDeliverHandler({
      ...container,
      store,
      visibility: queue,
      // Its endpoint circuits keep the queue's (compressed) time, as its retries do.
      circuit: endpointCircuit(queue.scheduleClock),
    });
    deliveries = queue;
    webhookSink = createWebhookSink({ store, queue });
    // Lambda's event source mapping, locally: the same events handler on DynamoDB Local's stream.
    const events = createEventsHandler({ ...container, store, telephony, sinks: [bus, webhookSink] });
    poller = pollStream(await StreamReader.open(connection, tableName ?? ''), events, {
      intervalMs: 200,
      log,
    });
  } catch (error) {
    server.close();
    await poller?.stop();
    await dynamodb?.stop();
    throw error;
  }

  return {
    url,
    apiKey,
    mode,
    startupMs: Date.now() - started,
    webhookSink: webhookSink as EventSink,
    async stop() {
      deliveries?.stop();
      await Promise.all([simulator?.calls.stop(), simulator?.messages.stop(), poller?.stop()]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dynamodb?.stop();
    },
  };
}

/** The simulated phone: Plivo's Call and Message APIs behind one phone network. */
interface Phone {
  calls: PhoneSimulator;
  messages: MessageSimulator;
}

/** The placeholder WhatsApp settings of the simulated stack (docs/local-stack.md). */
export const LOCAL_WHATSAPP = { number: '+14155550010', template: 'verification_code' } as const;

/**
 * What the operator would have had approved at Meta for these settings: an AUTHENTICATION template with the
 * security line and an expiry footer of the code's lifetime, in every language the locales map to.
 */
function approvedTemplate(config: Config): SimulatedWhatsApp | undefined {
  const whatsapp = config.whatsapp;
  if (!whatsapp) return undefined;
  return {
    number: whatsapp.fromNumber,
    templates: [
      {
        name: whatsapp.template,
        languages: [...new Set(Object.values(whatsapp.languages))],
        securityRecommendation: true,
        // Meta takes 1 to 90 minutes.
        codeExpirationMinutes: Math.min(90, Math.max(1, Math.floor(config.codeTtlSeconds / 60))),
      },
    ],
  };
}

/** The same EventBridge entry fields a rule matches on, as EventBridge delivers them. */
const busView = (entry: ReturnType<typeof recordingSink>['entries'][number]) => ({
  source: entry.Source,
  'detail-type': entry.DetailType,
  time: entry.Time?.toISOString(),
  detail: JSON.parse(entry.Detail ?? '{}') as unknown,
});

const plivoReply = (reply: { status: number; body: unknown }) => json(reply.status, reply.body);
const query = (request: IncomingMessage) => new URL(request.url ?? '/', 'http://local').searchParams;

/** The simulator's Plivo API and control routes, and the demo page: simulated mode only. */
async function simulatorRoutes(
  simulator: Phone & { bus: ReturnType<typeof recordingSink> },
  demo: Demo,
  request: IncomingMessage,
  method: string,
  path: string,
  body: Buffer,
): Promise<HttpResult | undefined> {
  const plivoCall = /^\/_plivo\/v1\/Account\/([^/]+)\/Call\/$/.exec(path);
  if (plivoCall && method === 'POST') {
    const reply = await simulator.calls.createCall(
      request.headers.authorization,
      plivoCall[1] ?? '',
      body.toString('utf8'),
    );
    return json(reply.status, reply.body);
  }
  const plivoMessage = /^\/_plivo\/v1\/Account\/([^/]+)\/Message\/$/.exec(path);
  if (plivoMessage && method === 'POST') {
    const reply = await simulator.messages.createMessage(
      request.headers.authorization,
      plivoMessage[1] ?? '',
      body.toString('utf8'),
    );
    return json(reply.status, reply.body);
  }
  const hangUp = /^\/_plivo\/v1\/Account\/([^/]+)\/(Request|Call)\/([^/]+)\/$/.exec(path);
  if (hangUp && method === 'DELETE') {
    const reply = await simulator.calls.hangUp(
      request.headers.authorization,
      hangUp[1] ?? '',
      hangUp[2] as 'Request' | 'Call',
      decodeURIComponent(hangUp[3] ?? ''),
    );
    return reply.status === 204 ? { statusCode: 204, headers: {}, body: '' } : json(reply.status, reply.body);
  }
  const liveCalls = /^\/_plivo\/v1\/Account\/([^/]+)\/Call\/$/.exec(path);
  if (liveCalls && method === 'GET')
    return plivoReply(
      simulator.calls.liveCalls(request.headers.authorization, liveCalls[1] ?? '', query(request)),
    );
  const liveCall = /^\/_plivo\/v1\/Account\/([^/]+)\/Call\/([^/]+)\/$/.exec(path);
  if (liveCall && method === 'GET')
    return plivoReply(
      simulator.calls.liveCall(
        request.headers.authorization,
        liveCall[1] ?? '',
        decodeURIComponent(liveCall[2] ?? ''),
        query(request),
      ),
    );
  if (path === '/_simulator/calls' && method === 'GET') return json(200, { calls: simulator.calls.calls() });
  // What would have been put on the EventBridge bus, oldest first.
  if (path === '/_simulator/events' && method === 'GET')
    return json(200, { events: simulator.bus.entries.map(busView) });
  if (path === '/_simulator/messages' && method === 'GET')
    return json(200, { messages: simulator.messages.messages() });
  const press = /^\/_simulator\/calls\/([^/]+)\/press$/.exec(path);
  if (press && method === 'POST') {
    let digits: unknown;
    try {
      digits = (JSON.parse(body.toString('utf8')) as { digits?: unknown }).digits;
    } catch {
      digits = undefined;
    }
    if (typeof digits !== 'string' || !/^[0-9*#]{1,32}$/.test(digits)) {
      return simulatorError(400, 'invalid_request', 'Send {"digits": "1"}: keys 0-9, * or #.');
    }
    return simulator.calls.press(press[1] ?? '', digits)
      ? json(200, { pressed: digits })
      : simulatorError(409, 'not_waiting_for_input', 'That call is not waiting for a key press.');
  }
  if (method === 'GET' && (path === '/' || path === '/index.html')) return page(demo.html, 'text/html');
  if (method === 'GET' && path === '/demo.js') return page(demo.script, 'text/javascript');
  if (method === 'GET' && path === '/demo.css') return page(demo.styles, 'text/css');
  if (method === 'GET' && path === '/favicon.svg') return page(demo.favicon, 'image/svg+xml');
  return undefined;
}

/** The demo page's files, ready to serve. */
interface Demo {
  html: string;
  script: string;
  styles: string;
  favicon: string;
}

async function loadDemo(apiKey: string): Promise<Demo> {
  const [html, source, styles, favicon] = await Promise.all(
    ['index.html', 'demo.ts', 'demo.css', 'favicon.svg'].map((file) =>
      readFile(new URL(file, DEMO_DIR), 'utf8'),
    ),
  );
  return {
    favicon: favicon ?? '',
    // The page calls the public API like any app would, with the local key.
    html: (html ?? '').replace('%API_KEY%', apiKey),
    script: (await transform(source ?? '', { loader: 'ts', target: 'es2022' })).code,
    styles: styles ?? '',
  };
}

/** DynamoDB Local cannot be bound to loopback: said at start in real mode, where real calls are at stake. */
const dynamoDbLocalWarning = (endpoint: string) =>
  `WARNING: DynamoDB Local (${endpoint}) listens on every network interface: its jar has no option to bind ` +
  'to 127.0.0.1 alone. Its tables are kept under a random access key id made for this run, so others on ' +
  'the network see an empty database; block its port in your firewall to keep them off it entirely.';

const simulatorError = (status: number, code: string, message: string) =>
  json(status, { error: { code, message } });

const json = (statusCode: number, body: unknown): HttpResult => ({
  statusCode,
  headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
  body: JSON.stringify(body),
});

const page = (body: string, type: string): HttpResult => ({
  statusCode: 200,
  headers: {
    'Content-Type': `${type}; charset=utf-8`,
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'self'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
  },
  body,
});

/** The body, or null past API Gateway's 10 MB payload limit. */
async function readBody(request: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > GATEWAY_MAX_PAYLOAD_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, result: HttpResult) {
  const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body, 'utf8');
  response.writeHead(result.statusCode, {
    ...(result.headers as Record<string, string>),
    'Content-Length': body.length,
  });
  response.end(body);
}
