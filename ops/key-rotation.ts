import { randomBytes } from 'node:crypto';
import { parseKeyRing } from '#platform/keyring.ts';

/**
 * Key-ring rotation as a command (`npm run rotate-keys`), in two phases decided by the secret itself, so
 * running it again is always safe:
 * 1. add a fresh random key, wait until every function's cached ring holds it, then make it current;
 * 2. remove the older keys once nothing they protect can still be checked: the cache's age after the switch,
 *    plus a code's life, plus the retention period. Sooner, it refuses and says when.
 * Each key records when it was added (`added`: `{"k2": time}`) and the switch when it became current
 * (`{"k2:current": time}`), and phase 2 measures from the switch, however long the operator waited before
 * running phase 1's end. A ring with old keys and no record of its switch (rotated by hand, or by an older
 * version of this command) gets one now: the switch was at the latest now, so waiting from now is safe.
 * Phase 1 resumes a key added but not yet current. Nothing here ever returns or prints key material: only
 * key ids and times.
 */
export interface RotationTimings {
  codeTtlSeconds: number;
  retentionSeconds: number;
  /** How long a function may keep a key ring it read (lib/platform/secrets.ts). */
  cacheSeconds: number;
}

export type RotationStep =
  /** Phase 1 begins: `secret` holds a new key that is not current yet. */
  | { kind: 'add'; keyId: string; secret: string; switchAt: number }
  /** Phase 1 waits until every cached ring knows the new key. */
  | { kind: 'wait'; keyId: string; switchAt: number }
  /** Phase 1 ends: `secret` makes the new key current. */
  | { kind: 'switch'; keyId: string; secret: string; oldKeys: string[]; removableAt: number }
  /** Phase 2: `secret` holds the current key alone. */
  | { kind: 'remove'; keyId: string; secret: string; removed: string[] }
  /**
   * Phase 2 refused: codes made under `oldKeys` may still be checked until `removableAt`. `secret`, when set,
   * records the switch the ring had no record of (as now), to be written before refusing.
   */
  | { kind: 'too-soon'; keyId: string; oldKeys: string[]; removableAt: number; secret?: string };

interface RingSecret {
  current: string;
  added: Record<string, string>;
  materials: Record<string, string>;
}

/** The next step for this secret at `now` (ms). Throws when the secret is not a valid key ring. */
export function nextRotationStep(secretString: string, now: number, timings: RotationTimings): RotationStep {
  const ring = readRing(secretString);
  const cacheMs = timings.cacheSeconds * 1000;
  const ids = Object.keys(ring.materials);
  const timeOf = (entry: string) => {
    const time = Date.parse(ring.added[entry] ?? '');
    return Number.isNaN(time) ? undefined : time;
  };
  const addedAt = (id: string) => timeOf(id);
  const currentAdded = addedAt(ring.current);
  // A key added after the current one and not current yet: phase 1 was started (maybe interrupted).
  const pending = ids.find((id) => {
    const added = addedAt(id);
    return id !== ring.current && added !== undefined && (currentAdded === undefined || added > currentAdded);
  });
  if (pending) {
    const switchAt = (addedAt(pending) ?? now) + cacheMs;
    if (now < switchAt) return { kind: 'wait', keyId: pending, switchAt };
    const oldKeys = ids.filter((id) => id !== pending);
    return {
      kind: 'switch',
      keyId: pending,
      secret: writeRing({
        ...ring,
        current: pending,
        added: { ...ring.added, [switchEntry(pending)]: new Date(now).toISOString() },
      }),
      oldKeys,
      removableAt: removableAfterSwitch(now, timings),
    };
  }

  const oldKeys = ids.filter((id) => id !== ring.current);
  if (oldKeys.length === 0) {
    const keyId = nextKeyId(ids);
    return {
      kind: 'add',
      keyId,
      secret: writeRing({
        current: ring.current,
        added: { ...ring.added, [keyId]: new Date(now).toISOString() },
        materials: { ...ring.materials, [keyId]: randomBytes(32).toString('base64url') },
      }),
      switchAt: now + cacheMs,
    };
  }
  const switchedAt = timeOf(switchEntry(ring.current));
  if (switchedAt === undefined) {
    // No record of the switch: it happened at the latest now, so phase 2 waits the whole period from now.
    return {
      kind: 'too-soon',
      keyId: ring.current,
      oldKeys,
      removableAt: removableAfterSwitch(now, timings),
      secret: writeRing({
        ...ring,
        added: { ...ring.added, [switchEntry(ring.current)]: new Date(now).toISOString() },
      }),
    };
  }
  const removableAt = removableAfterSwitch(switchedAt, timings);
  if (now < removableAt) return { kind: 'too-soon', keyId: ring.current, oldKeys, removableAt };
  const kept = (entry: string) => (ring.added[entry] === undefined ? {} : { [entry]: ring.added[entry] });
  return {
    kind: 'remove',
    keyId: ring.current,
    removed: oldKeys,
    secret: writeRing({
      current: ring.current,
      added: { ...kept(ring.current), ...kept(switchEntry(ring.current)) },
      materials: { [ring.current]: ring.materials[ring.current] ?? '' },
    }),
  };
}

/** Where `added` records when a key became current (`:` is never in a key id). */
const switchEntry = (keyId: string) => `${keyId}:current`;

/**
 * After the switch, containers may keep the old current key for one cache age, and each code they make lives
 * a code's life plus the retention period (its status and late webhooks).
 */
const removableAfterSwitch = (switchedAt: number, timings: RotationTimings) =>
  switchedAt + (timings.cacheSeconds + timings.codeTtlSeconds + timings.retentionSeconds) * 1000;

function nextKeyId(ids: string[]): string {
  const numbers = ids.map((id) => /^k(\d+)$/.exec(id)?.[1]).filter(Boolean) as string[];
  let n = Math.max(0, ...numbers.map(Number)) + 1;
  while (ids.includes(`k${n}`)) n++;
  return `k${n}`;
}

/** Validated by the functions' own parser, so the command never writes a ring they would refuse. */
function readRing(secretString: string): RingSecret {
  parseKeyRing(secretString);
  const { current, added, ...materials } = JSON.parse(secretString) as Record<string, unknown>;
  return {
    current: current as string,
    added: (added ?? {}) as Record<string, string>,
    materials: materials as Record<string, string>,
  };
}

function writeRing(ring: RingSecret): string {
  const secret = JSON.stringify({ current: ring.current, added: ring.added, ...ring.materials });
  parseKeyRing(secret);
  return secret;
}
