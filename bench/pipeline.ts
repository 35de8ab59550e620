import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBRecord, SQSEvent } from 'aws-lambda';
import { telephonyFor } from '#channels/plivo-calls.ts';
import { createEventBridgeClient, eventBridgeSink } from '#events/eventbridge-sink.ts';
import { OUTCOME_EVENT_TYPES } from '#events/outcome-events.ts';
import { createDeliverHandler } from '#events/webhook-delivery.ts';
import { createWebhookSink, type Delivery } from '#events/webhook-sink.ts';
import type { HttpEvent, HttpResult } from '#platform/http.ts';
import { createEventsHandler } from '../functions/events.ts';
import { StreamReader, streamEvent, verificationRecords } from '../local/stream-reader.ts';
import { apiEvent } from '../test/support/events.ts';
import type { DynamoDbMeter } from './dynamodb-meter.ts';
import {
  answerParams,
  BENCH_API_KEY_ID,
  checkEvent,
  DELIVERY_STATUSES,
  deliveryReportParams,
  hangupParams,
  sendEvent,
  signedWebhook,
  smsSendEvent,
  WHATSAPP_STATUSES,
  whatsappReportParams,
  whatsappSendEvent,
} from './events.ts';
import { benchPhones, fixtureOf } from './fixtures.ts';
import { meteredHandlers } from './handlers.ts';
import { round, type Summary, summarize } from './stats.ts';
import { countStdout } from './stdout-bytes.ts';
import { serveWorker } from './worker.ts';

/**
 * What a verification costs after its requests: the events function on the table's stream and the webhook
 * deliverer. Real verifications (voice: send, answer, hangup, right check; SMS: send, three delivery
 * reports, right check; WhatsApp: send, four reports up to read, right check) run through the real handlers; the stream records their verification items wrote
 * (read back from DynamoDB Local's stream, filtered as the event source mapping filters them) are counted
 * and handed to the real events handler one record per invocation, with its real EventBridge sink (the
 * bench's local server answers PutEvents) and webhook sink (the API key subscribes to every event type;
 * its queue is captured here); each queued delivery is then posted by the real deliverer to a receiver on
 * 127.0.0.1. Round trips and capacity are metered, log bytes counted, as in the warm phase.
 */
export interface PipelineInput {
  env: Record<string, string>;
  /** Verifications of each channel whose records are measured. */
  verifications: number;
}

export interface StageResult {
  invocations: number;
  latencyMs: Summary;
  cpuMs: number;
  logBytes: number;
  capacity: { readUnits: number; writeUnits: number };
  roundTrips: number;
}

export interface ChannelFlow {
  /** Stream records of its verification item that reach the events function, per verification. */
  records: number;
  /** Outcome events those records give (EventBridge entries; webhook deliveries when all are subscribed). */
  events: number;
  eventTypes: string[];
}

export interface PipelineOutput {
  voice: ChannelFlow;
  sms: ChannelFlow;
  /** Absent from runs made before WhatsApp existed. */
  whatsapp?: ChannelFlow;
  /** The events function handling one stream record. */
  eventsRecord: StageResult;
  /** The deliverer posting one webhook. */
  delivery: StageResult;
}

export async function measurePipeline(
  input: PipelineInput,
  progress: (line: string) => void,
): Promise<PipelineOutput> {
  const { env, verifications } = input;
  // The SDK clients of the events function read their endpoints from the environment, as on Lambda.
  Object.assign(process.env, env);
  const takeLogBytes = countStdout();
  const receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  try {
    const {
      container,
      config,
      tableName,
      meter,
      store,
      telephony,
      send,
      verify,
      answer,
      hangup,
      ring,
      authToken,
    } = meteredHandlers(env);
    const expect = async (label: string, result: Promise<HttpResult>, status: number) => {
      const out = await result;
      if (out.statusCode !== status) throw new Error(`${label} answered ${out.statusCode}: ${out.body}`);
      return out;
    };

    const { port } = receiver.address() as AddressInfo;
    await expect(
      'webhook',
      verify(
        apiEvent({
          method: 'PUT',
          resource: '/v1/webhook',
          body: { url: `http://127.0.0.1:${port}/hooks`, events: OUTCOME_EVENT_TYPES },
          apiKeyId: BENCH_API_KEY_ID,
        }) as HttpEvent,
      ),
      200,
    );

    const reader = await StreamReader.open(
      {
        endpoint: config.dynamodbEndpoint ?? '',
        credentials: {
          accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
        },
      },
      tableName,
    );
    const readRecords = async () => verificationRecords(await reader.read());
    await readRecords();

    progress(
      `pipeline: ${verifications} voice, ${verifications} SMS and ${verifications} WhatsApp verifications`,
    );
    const phones = benchPhones(3 * verifications);
    for (const phone of phones.slice(0, verifications)) {
      const sent = await expect('send', send(sendEvent(phone)), 202);
      const id = (JSON.parse(sent.body) as { id: string }).id;
      const call = telephony.calls.get(id);
      if (!call) throw new Error('the send placed no call');
      const fixture = fixtureOf(ring, call);
      const callUuid = randomUUID();
      await expect(
        'answer',
        answer(signedWebhook(fixture.answerUrl, answerParams(callUuid), authToken)),
        200,
      );
      await expect(
        'hangup',
        hangup(signedWebhook(fixture.hangupUrl, hangupParams(callUuid), authToken)),
        200,
      );
      await expect('check', verify(checkEvent(id, fixture.code)), 200);
    }
    const voiceRecords = await readRecords();
    for (const phone of phones.slice(verifications, 2 * verifications)) {
      const sent = await expect('SMS send', send(smsSendEvent(phone)), 202);
      const id = (JSON.parse(sent.body) as { id: string }).id;
      const message = telephony.messages.get(id);
      const code = message?.text.match(new RegExp(`\\b\\d{${config.codeLength}}\\b`))?.[0];
      if (!message || !code) throw new Error('the SMS send sent no code');
      for (const status of DELIVERY_STATUSES)
        await expect(
          'delivery report',
          hangup(
            signedWebhook(message.statusUrl, deliveryReportParams(message.messageId, status), authToken),
          ),
          200,
        );
      await expect('check', verify(checkEvent(id, code)), 200);
    }
    const smsRecords = await readRecords();
    for (const phone of phones.slice(2 * verifications)) {
      const sent = await expect('WhatsApp send', send(whatsappSendEvent(phone)), 202);
      const id = (JSON.parse(sent.body) as { id: string }).id;
      const message = telephony.whatsApps.get(id);
      if (!message) throw new Error('the WhatsApp send sent nothing');
      for (const status of WHATSAPP_STATUSES)
        await expect(
          'WhatsApp report',
          hangup(
            signedWebhook(message.statusUrl, whatsappReportParams(message.messageId, status), authToken),
          ),
          200,
        );
      await expect('check', verify(checkEvent(id, message.code)), 200);
    }
    const whatsappRecords = await readRecords();

    const deliveries: Delivery[] = [];
    const eventTypes = new Map<DynamoDBRecord, string[]>();
    let current: DynamoDBRecord | undefined;
    const handleEvents = createEventsHandler({
      ...container,
      store,
      telephony: telephonyFor(container),
      sinks: [
        eventBridgeSink(createEventBridgeClient(), config.eventBusName ?? ''),
        createWebhookSink({
          store,
          queue: {
            enqueue: async (queued) => {
              deliveries.push(...queued);
              if (current)
                eventTypes.set(current, [
                  ...(eventTypes.get(current) ?? []),
                  ...queued.map((d) => d.payload.type),
                ]);
            },
          },
        }),
      ],
    });
    const stage = createStage(meter, takeLogBytes);
    for (const record of [...voiceRecords, ...smsRecords, ...whatsappRecords]) {
      current = record;
      const response = await stage.time(() => handleEvents(streamEvent([record])));
      if (response.batchItemFailures.length > 0) throw new Error('the events function failed a record');
    }
    const eventsRecord = stage.result();

    const deliver = createDeliverHandler({
      ...container,
      store,
      visibility: { retryAfter: () => Promise.reject(new Error('no delivery may fail here')) },
    });
    const deliveryStage = createStage(meter, takeLogBytes);
    for (const delivery of deliveries) {
      const response = await deliveryStage.time(() => deliver(sqsEvent(delivery)));
      if (response.batchItemFailures.length > 0) throw new Error('a webhook delivery failed');
    }

    const flow = (records: DynamoDBRecord[]): ChannelFlow => {
      const types = records.flatMap((record) => eventTypes.get(record) ?? []);
      return {
        records: round(records.length / verifications, 2),
        events: round(types.length / verifications, 2),
        eventTypes: [...new Set(types)],
      };
    };
    return {
      voice: flow(voiceRecords),
      sms: flow(smsRecords),
      whatsapp: flow(whatsappRecords),
      eventsRecord,
      delivery: deliveryStage.result(),
    };
  } finally {
    receiver.close();
  }
}

/** One SQS message as the deliverer's event source mapping hands it over: its first receipt. */
const sqsEvent = (delivery: Delivery): SQSEvent => ({
  Records: [
    {
      messageId: randomUUID(),
      receiptHandle: randomUUID(),
      body: JSON.stringify(delivery),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SenderId: 'bench',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:voice-otp-bench-deliveries',
      awsRegion: 'us-east-1',
    },
  ],
});

/** Times invocations, with the capacity, round trips and log bytes each used. */
function createStage(meter: DynamoDbMeter, takeLogBytes: () => number) {
  const latencies: number[] = [];
  let cpu = 0;
  let logBytes = 0;
  let readUnits = 0;
  let writeUnits = 0;
  let roundTrips = 0;
  return {
    async time<T>(run: () => Promise<T>): Promise<T> {
      meter.take();
      takeLogBytes();
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const result = await run();
      latencies.push(performance.now() - started);
      const used = process.cpuUsage(cpuBefore);
      cpu += (used.user + used.system) / 1000;
      logBytes += takeLogBytes();
      for (const call of meter.take()) {
        readUnits += call.readUnits;
        writeUnits += call.writeUnits;
        roundTrips += 1;
      }
      return result;
    },
    result(): StageResult {
      const n = Math.max(1, latencies.length);
      return {
        invocations: latencies.length,
        latencyMs: summarize(latencies),
        cpuMs: round(cpu / n, 3),
        logBytes: round(logBytes / n, 1),
        capacity: { readUnits: round(readUnits / n, 3), writeUnits: round(writeUnits / n, 3) },
        roundTrips: round(roundTrips / n, 2),
      };
    },
  };
}

if (process.send) serveWorker(measurePipeline);
