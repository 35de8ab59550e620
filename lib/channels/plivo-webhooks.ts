import { addressMatcher } from '#platform/cidr.ts';
import { ApiError } from '#platform/errors.ts';
import { bodyText, type HttpEvent, header, mediaType } from '#platform/http.ts';
import type { Secrets } from '#platform/secrets.ts';
import { plivoSignatureValid } from './plivo-signature.ts';

const FORM = 'application/x-www-form-urlencoded';

export const invalidSignature = () =>
  new ApiError(403, 'invalid_signature', 'The request does not carry a valid Plivo signature.');

/** The webhook's query as API Gateway decoded it; Plivo's signature sorts it, so order does not matter. */
export function webhookQuery(event: HttpEvent): URLSearchParams {
  const query = new URLSearchParams();
  const multi = event.multiValueQueryStringParameters;
  if (multi) {
    for (const [key, values] of Object.entries(multi))
      for (const value of values ?? []) query.append(key, value);
  } else {
    for (const [key, value] of Object.entries(event.queryStringParameters ?? {}))
      query.append(key, value ?? '');
  }
  return query;
}

/**
 * Authenticates a Plivo webhook before anything else happens: the signature covers the URL exactly as we
 * gave it to Plivo (PUBLIC_URL + path + query, never a host taken from the request's headers) and the
 * form parameters. Returns those parameters; any failure is 403 invalid_signature with no side effect.
 * With webhookAllowedCidrs, a source outside them is refused first (403 forbidden), before the secret is read.
 */
export async function authenticateWebhook(
  event: HttpEvent,
  deps: { publicUrl: string; webhookAllowedCidrs: readonly string[]; secrets: Pick<Secrets, 'plivo'> },
  path: string,
): Promise<URLSearchParams> {
  // API Gateway's view of the caller (the TCP peer), not a header the caller could write.
  if (
    deps.webhookAllowedCidrs.length > 0 &&
    !addressMatcher(deps.webhookAllowedCidrs)(event.requestContext?.identity?.sourceIp)
  ) {
    throw new ApiError(403, 'forbidden', 'This address may not call this route.');
  }
  const text = bodyText(event);
  const isForm = mediaType(event) === FORM;
  const params = new URLSearchParams(isForm ? text : '');
  const query = webhookQuery(event).toString();
  const { authToken } = await deps.secrets.plivo();
  const valid = plivoSignatureValid({
    url: `${deps.publicUrl}${path}${query ? `?${query}` : ''}`,
    bodyParams: [...params],
    nonce: header(event, 'x-plivo-signature-v3-nonce'),
    signatures: [header(event, 'x-plivo-signature-v3'), header(event, 'x-plivo-signature-ma-v3')],
    authToken,
  });
  if (!valid) throw invalidSignature();
  if (!isForm && text.length > 0)
    throw new ApiError(415, 'unsupported_media_type', `Webhook bodies must be ${FORM}.`);
  return params;
}
