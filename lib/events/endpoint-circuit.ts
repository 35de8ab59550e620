/**
 * A circuit per app endpoint (one per API key, so keyed by it: a skip costs no read), in each delivery
 * container, so one tenant whose endpoint hangs cannot hold the
 * delivery function's concurrency, which every tenant shares. An attempt that got no answer within
 * DELIVERY_TIMEOUT_MS opens its endpoint's circuit: for `coolDownMs` that endpoint's deliveries fail at once
 * and wait for their next retry on the schedule, as a timeout would have made them, without holding a batch
 * (and the other tenants' deliveries in it) for the timeout. Then one delivery at a time probes the endpoint:
 * an answer closes the circuit, another timeout opens it again. Any answer, a non-2xx or a refusal of ours
 * included, is quick: it holds nothing, and counts as the endpoint answering.
 *
 * Per container, not shared: each container that meets a hanging endpoint pays one timeout before its own
 * circuit opens (docs/events-and-webhooks.md).
 */
export const CIRCUIT_COOL_DOWN_MS = 30_000;

export interface EndpointCircuit {
  /** Whether a delivery to the key's endpoint may be attempted now; true makes it the probe while half-open. */
  allow(apiKeyId: string): boolean;
  /** The attempt `allow` let through ended: `timedOut` when it got no answer in time. */
  record(apiKeyId: string, timedOut: boolean): void;
}

interface State {
  /** Open until then; half-open after it, with at most one probe out. */
  openUntil: number;
  probing: boolean;
}

export function endpointCircuit(clock: () => number, coolDownMs = CIRCUIT_COOL_DOWN_MS): EndpointCircuit {
  // Only endpoints whose last attempt timed out are here: a closed circuit is no entry.
  const open = new Map<string, State>();
  return {
    allow(apiKeyId) {
      const state = open.get(apiKeyId);
      if (!state) return true;
      if (clock() < state.openUntil || state.probing) return false;
      state.probing = true;
      return true;
    },
    record(apiKeyId, timedOut) {
      if (timedOut) open.set(apiKeyId, { openUntil: clock() + coolDownMs, probing: false });
      else open.delete(apiKeyId);
    },
  };
}
