import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

/**
 * Our outbound HTTP requests (Plivo's API, app webhooks) over node:http(s) rather than fetch: the AWS SDK
 * has already loaded and used these modules by then, while a function's first fetch() loads undici and web
 * streams, a cost measured on send's cold start. Node's global agents keep connections alive (5 s idle), so
 * a warm container's next request to the same host skips the TCP and TLS handshakes. Redirects are never
 * followed: a 3xx is just its status.
 */
export interface OutboundRequest {
  method: 'POST' | 'DELETE' | 'GET';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  /** For the whole exchange, body included; past it the request is abandoned and its socket closed. */
  timeoutMs: number;
  /** How host names are resolved (webhook delivery checks every address); the system's when unset. */
  lookup?: LookupFunction;
}

export interface OutboundResponse {
  status: number;
  /**
   * The body as text, its first MAX_RESPONSE_CHARS (answers we read are small; a receiver's may not be).
   * When the body fails or times out after the status arrived, what came: the status still stands.
   */
  text: string;
}

export const MAX_RESPONSE_CHARS = 64 * 1024;

/** No status within the timeout. Any other failure to get one rejects with the network's own error. */
export class RequestTimedOut extends Error {
  override readonly name = 'RequestTimedOut';
}

export function sendRequest(request: OutboundRequest): Promise<OutboundResponse> {
  const { url, body, lookup } = request;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let status: number | undefined;
    let text = '';
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (status !== undefined) resolve({ status, text });
      else reject(error ?? new Error('No response'));
      if (error) outgoing.destroy();
    };
    const timer = setTimeout(() => settle(new RequestTimedOut()), request.timeoutMs);
    const headers =
      body === undefined
        ? request.headers
        : { ...request.headers, 'content-length': `${Buffer.byteLength(body)}` };
    const outgoing = send(url, { method: request.method, headers, ...(lookup && { lookup }) }, (response) => {
      status = response.statusCode ?? 0;
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (text.length < MAX_RESPONSE_CHARS) text += chunk.slice(0, MAX_RESPONSE_CHARS - text.length);
      });
      response.on('end', () => settle());
      response.on('error', settle);
      // A connection closed mid-body ends the exchange too (with what arrived).
      response.on('close', () => settle());
    });
    outgoing.on('error', settle);
    outgoing.end(body);
  });
}
