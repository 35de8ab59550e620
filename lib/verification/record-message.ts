import type { MetricName } from '#platform/metrics.ts';
import {
  isMessageStatus,
  type MessageChannel,
  type MessageRecord,
  type MessageStatus,
  type Verification,
} from '#store/verification.ts';
import { fallBack, fallbackChannelFor } from './fallback.ts';
import { isVerificationId } from './ids.ts';
import type { HangupDeps } from './record-hangup.ts';

const units = (value: string | null) => {
  const n = Number(value);
  return value !== null && /^[0-9]{1,3}$/.test(value) && n >= 1 ? n : undefined;
};

const amount = (value: string | null) =>
  value && /^[0-9]{1,6}(\.[0-9]{1,8})?$/.test(value) ? value : undefined;

const errorCode = (value: string | null) => (value && /^[0-9]{1,10}$/.test(value) ? value : undefined);

/**
 * Which message a report is for, from the signed URL the send gave Plivo: `c=whatsapp` for a WhatsApp
 * message, nothing for an SMS (lib/platform/routes.ts). Undefined for anything else.
 */
export function reportChannel(query: URLSearchParams): MessageChannel | undefined {
  const channel = query.get('c');
  if (channel === null) return 'sms';
  return channel === 'whatsapp' ? 'whatsapp' : undefined;
}

/**
 * Reads a delivery report's form parameters (Plivo's message status callback) into what is recorded:
 * MessageUUID, Status, Units, TotalAmount and ErrorCode, each only in the shape Plivo gives it. Undefined
 * without a well-formed MessageUUID and a Status of the channel (`read` is WhatsApp's alone). To and From are
 * never read.
 */
export function messageReportFrom(
  params: URLSearchParams,
  channel: MessageChannel = 'sms',
): (MessageRecord & { uuid: string }) | undefined {
  const uuid = params.get('MessageUUID') ?? '';
  const status = (params.get('Status') ?? '').toLowerCase();
  if (!/^[\w-]{1,64}$/.test(uuid) || !isMessageStatus(status)) return undefined;
  if (status === 'read' && channel !== 'whatsapp') return undefined;
  return {
    status,
    ...(channel === 'whatsapp' && { channel }),
    uuid,
    units: units(params.get('Units')),
    cost: amount(params.get('TotalAmount')),
    errorCode:
      status === 'failed' || status === 'undelivered' ? errorCode(params.get('ErrorCode')) : undefined,
  };
}

/** The operator's counts of what became of each channel's messages (infra/monitoring.ts). */
const REPORT_METRICS: Record<MessageChannel, Partial<Record<MessageStatus, MetricName>>> = {
  sms: { delivered: 'MessagesDelivered', undelivered: 'MessagesFailed', failed: 'MessagesFailed' },
  whatsapp: {
    delivered: 'WhatsAppDelivered',
    read: 'WhatsAppRead',
    undelivered: 'WhatsAppFailed',
    failed: 'WhatsAppFailed',
  },
};

/**
 * Records one delivery report in one conditional write (lib/store/dynamodb-verifications.ts recordMessage): the
 * first binds the MessageUUID, each forward step is written once, replays and late reports change nothing. A
 * report for an unknown verification, or without usable parameters, writes nothing. Either way Plivo gets its
 * 200.
 */
export async function recordMessageStatus(
  deps: HangupDeps,
  query: URLSearchParams,
  params: URLSearchParams,
): Promise<void> {
  const id = query.get('v') ?? '';
  const channel = reportChannel(query);
  const report = channel && messageReportFrom(params, channel);
  if (!isVerificationId(id) || !channel || !report) {
    deps.logger.warn('Delivery report without a verification id, MessageUUID or known Status');
    return;
  }
  const result = await deps.store.recordMessage(id, report, deps.clock());
  if (!result.done) {
    deps.logger.info('Delivery report not recorded', {
      verificationId: id,
      channel,
      messageStatus: report.status,
      reason: result.current ? 'not a step forward, or another message' : 'unknown',
    });
  } else {
    const metric = REPORT_METRICS[channel][report.status];
    if (metric) deps.metrics.count(metric);
    deps.logger.info('Message status', {
      verificationId: id,
      channel,
      messageStatus: report.status,
      units: report.units,
      errorCode: report.errorCode,
    });
  }
  // Also for a replayed report (already recorded): a webhook whose first delivery died after the write is
  // retried by Plivo, and the claim keeps the fallback to one.
  const stored = result.done ? result.verification : result.current;
  if (messageNeverDelivered(stored, report)) {
    await fallBack(deps, {
      verificationId: id,
      token: query.get('t') ?? '',
      channel: fallbackChannelFor(deps.config, channel),
    });
  }
}

/**
 * The report says the message failed or was undelivered, and that is what is recorded: the fallback goes out
 * (once: a WhatsApp message's late report, after its SMS fallback took its place, finds the fallback claimed).
 */
function messageNeverDelivered(stored: Verification | undefined, report: MessageRecord) {
  return (
    (report.status === 'failed' || report.status === 'undelivered') &&
    stored?.message?.status === report.status
  );
}
