import { appendFileSync } from 'node:fs';
import type { HttpResult } from '#platform/http.ts';

/**
 * One answer of the API as a client received it, for the e2e suite's contract check (test/support/contract.ts
 * holds each against openapi.yaml). The path without its query (webhook queries carry sealed tokens); a JSON
 * body parsed, any other body only counted (Plivo XML speaks the code).
 */
export interface Exchange {
  method: string;
  path: string;
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** The parsed body when it is JSON, else null. */
  json: unknown;
  bytes: number;
}

/**
 * `EXCHANGE_LOG=<file>`: every answer of the API routes (gateway and handlers, Plivo's webhooks included; not
 * the simulator, the demo page or /health) is appended to the file as one JSON line. Off unless set; the e2e
 * suite sets it to a file of its own that it deletes.
 */
export function exchangeRecorder(file: string) {
  return (method: string, path: string, result: HttpResult) => {
    const headers = Object.fromEntries(
      Object.entries(result.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]),
    );
    const body = result.isBase64Encoded
      ? Buffer.from(result.body, 'base64')
      : Buffer.from(result.body, 'utf8');
    const isJson = /^application\/json\b/.test(headers['content-type'] ?? '');
    const exchange: Exchange = {
      method,
      path,
      status: result.statusCode,
      headers,
      json: isJson && body.length > 0 ? (JSON.parse(body.toString('utf8')) as unknown) : null,
      bytes: body.length,
    };
    // Synchronous: lines stay whole and in order, and none is lost when the process is stopped.
    appendFileSync(file, `${JSON.stringify(exchange)}\n`, { mode: 0o600 });
  };
}
