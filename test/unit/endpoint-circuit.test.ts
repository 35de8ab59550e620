import { describe, expect, it } from 'vitest';
import { CIRCUIT_COOL_DOWN_MS, endpointCircuit } from '#events/endpoint-circuit.ts';

describe('an API key’s endpoint circuit', () => {
  const circuitAt = () => {
    const clock = { now: 1_000_000 };
    return { clock, circuit: endpointCircuit(() => clock.now) };
  };

  it('lets every attempt through while the endpoint answers, whatever it answers', () => {
    const { circuit } = circuitAt();
    for (let i = 0; i < 3; i++) {
      expect(circuit.allow('key-a')).toBe(true);
      circuit.record('key-a', false);
    }
  });

  it('after a timeout, refuses that key’s attempts for the cool-down, and no other key’s', () => {
    const { clock, circuit } = circuitAt();
    expect(circuit.allow('key-a')).toBe(true);
    circuit.record('key-a', true);
    expect(circuit.allow('key-a')).toBe(false);
    expect(circuit.allow('key-b')).toBe(true);
    clock.now += CIRCUIT_COOL_DOWN_MS - 1;
    expect(circuit.allow('key-a')).toBe(false);
  });

  it('then lets one probe through at a time: an answer closes it, another timeout opens it again', () => {
    const { clock, circuit } = circuitAt();
    circuit.record('key-a', true);
    clock.now += CIRCUIT_COOL_DOWN_MS;
    expect(circuit.allow('key-a')).toBe(true);
    expect(circuit.allow('key-a')).toBe(false);
    circuit.record('key-a', true);
    expect(circuit.allow('key-a')).toBe(false);
    clock.now += CIRCUIT_COOL_DOWN_MS;
    expect(circuit.allow('key-a')).toBe(true);
    circuit.record('key-a', false);
    expect(circuit.allow('key-a')).toBe(true);
    expect(circuit.allow('key-a')).toBe(true);
  });
});
