import type { CallRecord, CallStatus } from '#store/verification.ts';
import { type FallbackDeps, fallBack } from './fallback.ts';
import { isVerificationId } from './ids.ts';

/** The hangup function records delivery outcomes and, from them, may send the fallback itself. */
export type HangupDeps = FallbackDeps;

/** Plivo's CallStatus at hangup → ours. Plivo says `timeout` where the contract says `no-answer`. */
const STATUSES: Record<string, CallStatus> = {
  completed: 'completed',
  busy: 'busy',
  failed: 'failed',
  timeout: 'no-answer',
  'no-answer': 'no-answer',
  cancel: 'canceled',
  canceled: 'canceled',
};

const seconds = (value: string | null) => {
  const n = Number(value);
  return value !== null && value !== '' && Number.isInteger(n) && n >= 0 && n < 86_400 ? n : undefined;
};

const cost = (value: string | null) =>
  value && /^[0-9]{1,6}(\.[0-9]{1,8})?$/.test(value) ? value : undefined;

const cause = (value: string | null) => (value && /^[\w .,()'/-]{1,80}$/.test(value) ? value : undefined);

/** Reads a hangup webhook's form parameters into a call record; undefined without a CallUUID. */
export function callRecordFrom(params: URLSearchParams): (CallRecord & { uuid: string }) | undefined {
  const uuid = params.get('CallUUID') ?? '';
  if (!/^[\w-]{1,64}$/.test(uuid)) return undefined;
  const machine = (params.get('Machine') ?? params.get('MachineDetection') ?? '').toLowerCase() === 'true';
  return {
    status: machine ? 'machine' : (STATUSES[(params.get('CallStatus') ?? '').toLowerCase()] ?? 'failed'),
    uuid,
    durationSeconds: seconds(params.get('Duration')),
    billDurationSeconds: seconds(params.get('BillDuration')),
    hangupCause: cause(params.get('HangupCauseName') ?? params.get('HangupCause')),
    cost: cost(params.get('TotalCost')),
  };
}

/** Call outcomes after which the code was never heard: the fallback sends it by SMS. */
const UNHEARD: readonly CallStatus[] = ['busy', 'no-answer', 'failed', 'machine'];

/**
 * Whether the call ended without the code reaching anyone: busy, no answer, failed, a machine, or completed
 * without ever being answered (Plivo then gives no AnswerTime and bills nothing). A call that was answered
 * and hung up early is not: someone picked up, and may have heard the code.
 */
function callNeverHeard(call: CallRecord, params: URLSearchParams): boolean {
  if (UNHEARD.includes(call.status)) return true;
  const answered = (params.get('AnswerTime') ?? '') !== '' || (call.billDurationSeconds ?? 0) > 0;
  return call.status === 'completed' && !answered;
}

/**
 * Records how the call ended, in one conditional write, once per CallUUID: Plivo's retries rewrite the same
 * values, a webhook for an unknown verification writes nothing. Either way Plivo gets its 200. A call that
 * never reached anyone then falls back to SMS (lib/verification/fallback.ts): a retried webhook tries again, and finds it
 * claimed.
 */
export async function recordHangup(
  deps: HangupDeps,
  query: URLSearchParams,
  params: URLSearchParams,
): Promise<void> {
  const id = query.get('v') ?? '';
  const call = callRecordFrom(params);
  if (!isVerificationId(id) || !call) {
    deps.logger.warn('Hangup webhook without a verification id or CallUUID');
    return;
  }
  const result = await deps.store.recordCall(id, call, deps.clock());
  if (result.done) {
    deps.metrics.count('CallsEnded', { name: 'CallStatus', value: call.status });
    deps.logger.info('Call ended', {
      verificationId: id,
      callStatus: call.status,
      durationSeconds: call.durationSeconds,
      hangupCause: call.hangupCause,
    });
    if (callNeverHeard(call, params))
      await fallBack(deps, { verificationId: id, token: query.get('t') ?? '', channel: 'sms' });
  } else {
    deps.logger.info('Hangup not recorded', {
      verificationId: id,
      reason: result.current ? 'other call' : 'unknown',
    });
  }
}
