import {
  isFinalMessageStatus,
  MESSAGE_STATUS_RANK,
  type MessageRecord,
  type MessageStatus,
  type Verification,
} from '#store/verification.ts';
import { fallBack } from './fallback.ts';
import { isVerificationId } from './ids.ts';
import type { HangupDeps } from './record-hangup.ts';

const isMessageStatus = (value: string): value is MessageStatus => Object.hasOwn(MESSAGE_STATUS_RANK, value);

const units = (value: string | null) => {
  const n = Number(value);
  return value !== null && /^[0-9]{1,3}$/.test(value) && n >= 1 ? n : undefined;
};

const amount = (value: string | null) =>
  value && /^[0-9]{1,6}(\.[0-9]{1,8})?$/.test(value) ? value : undefined;

const errorCode = (value: string | null) => (value && /^[0-9]{1,10}$/.test(value) ? value : undefined);

/**
 * Reads a delivery report's form parameters (Plivo's message status callback) into what is recorded:
 * MessageUUID, Status, Units, TotalAmount and ErrorCode, each only in the shape Plivo gives it. Undefined
 * without a well-formed MessageUUID and a known Status. To and From are never read.
 */
export function messageReportFrom(params: URLSearchParams): (MessageRecord & { uuid: string }) | undefined {
  const uuid = params.get('MessageUUID') ?? '';
  const status = (params.get('Status') ?? '').toLowerCase();
  if (!/^[\w-]{1,64}$/.test(uuid) || !isMessageStatus(status)) return undefined;
  return {
    status,
    uuid,
    units: units(params.get('Units')),
    cost: amount(params.get('TotalAmount')),
    errorCode:
      status === 'failed' || status === 'undelivered' ? errorCode(params.get('ErrorCode')) : undefined,
  };
}

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
  const report = messageReportFrom(params);
  if (!isVerificationId(id) || !report) {
    deps.logger.warn('Delivery report without a verification id, MessageUUID or known Status');
    return;
  }
  const result = await deps.store.recordMessage(id, report, deps.clock());
  if (!result.done) {
    deps.logger.info('Delivery report not recorded', {
      verificationId: id,
      messageStatus: report.status,
      reason: result.current ? 'not a step forward, or another message' : 'unknown',
    });
  } else {
    if (isFinalMessageStatus(report.status))
      deps.metrics.count(report.status === 'delivered' ? 'MessagesDelivered' : 'MessagesFailed');
    deps.logger.info('Message status', {
      verificationId: id,
      messageStatus: report.status,
      units: report.units,
      errorCode: report.errorCode,
    });
  }
  // Also for a replayed report (already recorded): a webhook whose first delivery died after the write is
  // retried by Plivo, and the claim keeps the fallback to one.
  const stored = result.done ? result.verification : result.current;
  if (messageNeverDelivered(stored, report))
    await fallBack(deps, { verificationId: id, token: query.get('t') ?? '', channel: 'voice' });
}

/** The report says the SMS failed or was undelivered, and that is what is recorded: the fallback calls. */
function messageNeverDelivered(stored: Verification | undefined, report: MessageRecord) {
  return (
    (report.status === 'failed' || report.status === 'undelivered') &&
    stored?.message?.status === report.status
  );
}
