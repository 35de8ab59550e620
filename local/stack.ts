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
import { ApiError } from '#platform/errors.ts';
import { errorResponse, type HttpEvent, type HttpResult } from '#platform/http.ts';
import { newKeyRingSecret } from '#platform/keyring.ts';
import type { ApiFunctionName } from '#platform/routes.ts';
import { containerFromEnvironment } from '#platform/runtime.ts';
import { DEFAULT_ENDPOINT_CREDENTIALS, openTable } from '#store/dynamodb-client.ts';
import { dynamoDbStore } from '#store/dynamodb-store.ts';
import { createAnswerHandler } from '../functions/answer.ts';
import { createEventsHandler } from '../functions/events.ts';
import { createHangupHandler } from '../functions/hangup.ts';
import { createSendHandler } from '../functions/send.ts';
import { createVerifyHandler } from '../functions/verify.ts';
import { LocalDeliveryQueue } from './delivery-queue.ts';
import { createTable, type DynamoDbLocal, startDynamoDbLocal, warmUpDynamoDb } from './dynamodb-local.ts';
import {
  GATEWAY_MAX_PAYLOAD_BYTES,
  localHosts,
  matchRoute,
  misdirected,
  mockAccepts,
  toProxyEvent,
} from './gateway.ts';
import { PhoneSimulator } from './simulator.ts';
import { SmsSimulator } from './sms-simulator.ts';
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

/** The fixed API key id requests carry locally, standing in for API Gateway's key ids. */
export const LOCAL_API_KEY_ID = 'local';

const REAL_MODE_SETTINGS = ['PLIVO_AUTH_ID', 'PLIVO_AUTH_TOKEN', 'PLIVO_FROM_NUMBER', 'PUBLIC_URL'] as const;
const DEMO_DIR = new URL('./demo/', import.meta.url);

type Handler = (event: HttpEvent) => Promise<HttpResult>;

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const started = Date.now();
  const { env, log } = options;
  const mode = REAL_MODE_SETTINGS.every((name) => env[name]) ? 'real' : 'simulated';
  const apiKey = env.API_KEY || `local-${randomBytes(12).toString('base64url')}`;
  let handlers: Record<ApiFunctionName, Handler> | undefined;
  let simulator: Phone | undefined;
  // The local stand-in for the EventBridge bus: what would have been put on it (GET /_simulator/events).
  const bus = recordingSink();
  let poller: { stop(): Promise<void> } | undefined;
  let demo: { html: string; script: string; styles: string } | undefined;
  let deliveries: LocalDeliveryQueue | undefined;
  let webhookSink: EventSink | undefined;

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
      send(response, misdirected(allowedHosts));
      return;
    }
    const body = await readBody(request);
    const result = await route(request, url, method, body);
    send(response, result);
    // The path only: webhook queries carry sealed tokens.
    if (!url.pathname.startsWith('/_simulator') && url.pathname !== '/health') {
      log(`${method} ${url.pathname} → ${result.statusCode} (${Date.now() - startedAt} ms)`);
    }
  }

  async function route(
    request: IncomingMessage,
    url: URL,
    method: string,
    body: Buffer | null,
  ): Promise<HttpResult> {
    if (body === null)
      return errorResponse(new ApiError(413, 'payload_too_large', 'The request is larger than 10 MB.'));
    const path = url.pathname;
    if (path === '/health') {
      return handlers ? json(200, { status: 'ok', mode }) : json(503, { status: 'starting' });
    }
    if (!handlers)
      return errorResponse(new ApiError(503, 'store_unavailable', 'The local stack is still starting.'));
    if (simulator && demo) {
      const local = await simulatorRoutes({ ...simulator, bus }, demo, request, method, path, body);
      if (local) return local;
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
    // Like the usage plan: the key is checked before anything else on app routes.
    if (needsKey && request.headers['x-api-key'] !== apiKey) {
      return errorResponse(new ApiError(401, 'unauthorized', 'A valid x-api-key header is required.'));
    }
    if (match.kind === 'method_not_allowed') {
      // API Gateway's 405 is a mock integration that maps only the API's own media types: others get 415.
      if (!mockAccepts(request.headers['content-type'])) {
        return errorResponse(
          new ApiError(415, 'unsupported_media_type', 'This content type is not supported here.'),
        );
      }
      return errorResponse(new ApiError(405, 'method_not_allowed', `${method} is not allowed on ${path}.`));
    }
    const event = toProxyEvent(request, url, body, match, needsKey ? LOCAL_API_KEY_ID : null);
    return handlers[match.route.function](event);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const allowedHosts = localHosts(port, mode === 'real' ? env.PUBLIC_URL : undefined);

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
      });
      const simulatorOptions = { authId, authToken, speed: Number(env.SIMULATOR_SPEED || 10), log };
      simulator = { calls: new PhoneSimulator(simulatorOptions), sms: new SmsSimulator(simulatorOptions) };
      demo = await loadDemo(apiKey);
    }
    const container = containerFromEnvironment(serviceEnv);
    const { dynamodbEndpoint, tableName } = container.config;
    const connection = {
      endpoint: dynamodbEndpoint ?? '',
      credentials: container.config.dynamodbCredentials ?? DEFAULT_ENDPOINT_CREDENTIALS,
    };
    await createTable(connection, tableName ?? '').catch((error: Error) => {
      if (error.name !== 'ResourceInUseException') throw error;
    });
    const table = openTable(container.config);
    const store = dynamoDbStore(table);
    // Ready means ready for a burst (a test suite's first parallel sends), not only up.
    const warm = await warmUpDynamoDb(connection, table.tableName);
    log(
      warm.warm
        ? `DynamoDB Local warmed up: ${warm.rounds} burst(s) of 48 sends' requests, the slowest request of the last ${warm.slowestMs} ms`
        : `DynamoDB Local warmed up as far as this busy machine allows: ${warm.rounds} burst(s), the slowest request of the last ${warm.slowestMs} ms`,
    );
    const telephony = telephonyFor(container);
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
      await Promise.all([simulator?.calls.stop(), simulator?.sms.stop(), poller?.stop()]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dynamodb?.stop();
    },
  };
}

/** The simulated phone: Plivo's Call and Message APIs behind one phone network. */
interface Phone {
  calls: PhoneSimulator;
  sms: SmsSimulator;
}

/** The same EventBridge entry fields a rule matches on, as EventBridge delivers them. */
const busView = (entry: ReturnType<typeof recordingSink>['entries'][number]) => ({
  source: entry.Source,
  'detail-type': entry.DetailType,
  time: entry.Time?.toISOString(),
  detail: JSON.parse(entry.Detail ?? '{}') as unknown,
});

/** The simulator's Plivo API and control routes, and the demo page: simulated mode only. */
async function simulatorRoutes(
  simulator: Phone & { bus: ReturnType<typeof recordingSink> },
  demo: { html: string; script: string; styles: string },
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
    const reply = await simulator.sms.createMessage(
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
      hangUp[3] ?? '',
    );
    return reply.status === 204 ? { statusCode: 204, headers: {}, body: '' } : json(reply.status, reply.body);
  }
  if (path === '/_simulator/calls' && method === 'GET') return json(200, { calls: simulator.calls.calls() });
  // What would have been put on the EventBridge bus, oldest first.
  if (path === '/_simulator/events' && method === 'GET')
    return json(200, { events: simulator.bus.entries.map(busView) });
  if (path === '/_simulator/messages' && method === 'GET')
    return json(200, { messages: simulator.sms.messages() });
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
  return undefined;
}

async function loadDemo(apiKey: string) {
  const [html, source, styles] = await Promise.all(
    ['index.html', 'demo.ts', 'demo.css'].map((file) => readFile(new URL(file, DEMO_DIR), 'utf8')),
  );
  return {
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
