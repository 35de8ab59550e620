import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PhoneSimulator } from '../local/simulator.ts';

/**
 * Plivo's Call API for the send function, served by the local phone simulator on 127.0.0.1: the function
 * sends exactly the request it sends Plivo and gets Plivo's answer. The callees are slow on purpose (a
 * simulated second lasts 1000 real ones), so no call is answered while the benchmark runs and no webhook
 * traffic from the simulator disturbs a measurement; stop() hangs every call up.
 */
export interface PlivoApi {
  apiUrl: string;
  authId: string;
  authToken: string;
  callsPlaced(): number;
  stop(): Promise<void>;
}

const SLOW_CALLEES = 0.001;

export async function startPlivoApi(): Promise<PlivoApi> {
  const authId = `MABENCH${randomBytes(7).toString('hex').toUpperCase()}`;
  const authToken = randomBytes(24).toString('base64url');
  const simulator = new PhoneSimulator({ authId, authToken, speed: SLOW_CALLEES, log: () => {} });
  let placed = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const call = /^\/v1\/Account\/([^/]+)\/Call\/$/.exec(request.url ?? '');
      const reply =
        call && request.method === 'POST'
          ? simulator.createCall(
              request.headers.authorization,
              call[1] ?? '',
              Buffer.concat(chunks).toString(),
            )
          : Promise.resolve({ status: 404, body: { error: 'not found' } });
      void reply.then(({ status, body }) => {
        if (status === 201) placed++;
        response.writeHead(status, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify(body));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    authId,
    authToken,
    callsPlaced: () => placed,
    async stop() {
      await simulator.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
