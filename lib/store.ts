import type { CallRecord, Verification } from './verification.ts';

/**
 * Persistence for verifications. Every transition is one conditional write; when its condition fails the
 * store returns the current record (read in the same round trip) so the caller can say why.
 */
export interface VerificationStore {
  /** Stores a new pending verification; its id must be new. */
  create(verification: Verification): Promise<void>;
  get(id: string): Promise<Verification | undefined>;

  /** Makes `id` the phone's latest verification for this API key; returns the id it replaced, if any. */
  pointPhoneTo(
    apiKeyId: string,
    phoneHash: string,
    id: string,
    expiresAt: number,
  ): Promise<string | undefined>;
  latestIdForPhone(apiKeyId: string, phoneHash: string): Promise<string | undefined>;

  /** Approves when the verification is pending, unexpired, under its attempt limit and the hash matches. */
  approve(input: ApproveInput): Promise<TransitionResult>;
  /** Counts one wrong code against the verification as it was seen (optimistic on `attempts`). */
  recordWrongCode(seen: Verification, now: number): Promise<TransitionResult>;
  cancel(id: string, apiKeyId: string, now: number): Promise<TransitionResult>;
  /** Marks a pending verification failed because its call could not be placed. */
  fail(id: string, call: CallRecord, now: number): Promise<TransitionResult>;
  /** Records a call's outcome once per Plivo CallUUID; retries with the same CallUUID change nothing. */
  recordCall(id: string, call: CallRecord & { uuid: string }, now: number): Promise<TransitionResult>;
}

export interface ApproveInput {
  id: string;
  apiKeyId: string;
  keyId: string;
  codeHash: string;
  now: number;
}

export type TransitionResult =
  | { done: true; verification: Verification }
  | { done: false; current: Verification | undefined };
