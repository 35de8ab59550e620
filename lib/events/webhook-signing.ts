import { createHmac } from 'node:crypto';
import { secretBytes } from './webhook-secret.ts';

/**
 * Standard Webhooks signatures (standardwebhooks.com), so receivers can verify with its libraries:
 * `webhook-signature: v1,<base64 HMAC-SHA256(secret bytes, "<webhook-id>.<webhook-timestamp>.<body>")>`.
 * The timestamp is the attempt's own (seconds), so each retry is signed afresh under the same webhook-id,
 * and receivers may refuse stale timestamps to stop replays.
 */
export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export function signWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
): SignedHeaders {
  const timestamp = String(timestampSeconds);
  const signature = createHmac('sha256', secretBytes(secret))
    .update(`${id}.${timestamp}.${body}`)
    .digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}
