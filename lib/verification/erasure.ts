import { e164Only, phoneHash } from '#channels/phone.ts';
import type { Config } from '#platform/config.ts';
import type { Logger } from '#platform/logger.ts';
import type { Secrets } from '#platform/secrets.ts';
import type { PhoneStore, RecentLimit } from '#store/store.ts';

/**
 * "Forget my number": every verification of a phone for the calling API key, under every key of the ring,
 * and the phone's pointer are deleted; the ids then answer 404. The abuse counters stay: they hold only
 * pseudonyms, and erasing them would let an abuser reset their own limits (SECURITY.md).
 */
export async function erasePhone(
  deps: { store: PhoneStore; secrets: Secrets; logger: Logger },
  apiKeyId: string,
  phoneInput: string,
): Promise<{ erased: number }> {
  // A number in E.164 form that send would have refused has no verification: erased 0, like any unknown one.
  const e164 = e164Only(phoneInput);
  // Afresh: a container that loaded the ring before a rotation would miss the pointer under the new key.
  const ring = await deps.secrets.keyRing({ refresh: true });
  const erased = await deps.store.erasePhone(
    apiKeyId,
    ring.all.map((key) => phoneHash(key, e164)),
  );
  deps.logger.info('Phone erased', { erased });
  return { erased };
}

const DAY_SECONDS = 86_400;
/** Whatever the settings, a pointer item stays a few KB (each entry is about 50 bytes). */
const MAX_RECENT = 1000;

/**
 * How many ids a phone's pointer may list: its items live a code's life plus the retention period, during
 * which the phone's daily limit admits at most that many sends per UTC day the period touches.
 */
export const recentLimit = (
  config: Pick<Config, 'codeTtlSeconds' | 'retentionSeconds'> & {
    abuse: Pick<Config['abuse'], 'phoneMaxPerDay'>;
  },
): RecentLimit => {
  const days = Math.ceil((config.codeTtlSeconds + config.retentionSeconds) / DAY_SECONDS) + 1;
  return { atMost: Math.min(MAX_RECENT, config.abuse.phoneMaxPerDay * days) };
};
