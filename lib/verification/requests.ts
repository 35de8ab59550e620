import * as z from 'zod/mini';
import { CHANNELS } from '#platform/config.ts';

/**
 * Request bodies of the app routes (the webhook's is with it, lib/events/app-webhooks.ts). Each issue message is a
 * sentence a developer can act on.
 */
export const field = (name: string, maxLength: number) =>
  z
    .string({
      error: (issue) =>
        issue.input === undefined ? `${name} is required.` : `${name} must be a JSON string.`,
    })
    .check(z.maxLength(maxLength, `${name} is longer than ${maxLength} characters.`));

export const unknownFields = {
  error: (issue: { code?: string; keys?: string[] }) =>
    issue.code === 'unrecognized_keys'
      ? `Unknown field: ${(issue.keys ?? []).map((key) => JSON.stringify(key.slice(0, 40))).join(', ')}.`
      : undefined,
};

export const sendRequest = z.strictObject(
  {
    phone: field('phone', 64),
    locale: z.optional(field('locale', 35)),
    channel: z.optional(z.enum(CHANNELS, { error: 'channel must be "voice", "sms" or "whatsapp".' })),
    fallback: z.optional(z.boolean({ error: 'fallback must be true or false.' })),
    // Android's SMS Retriever: the app's hash, 11 characters of base64 (lib/channels/sms-text.ts).
    appHash: z.optional(
      z
        .string({ error: 'appHash must be a JSON string.' })
        .check(z.regex(/^[A-Za-z0-9+/]{11}$/, 'appHash must be 11 characters of A-Z, a-z, 0-9, + or /.')),
    ),
  },
  unknownFields,
);

export const checkRequest = z.pipe(
  z.strictObject(
    {
      id: z.optional(field('id', 64)),
      phone: z.optional(field('phone', 64)),
      code: field('code', 64),
    },
    unknownFields,
  ),
  z.transform((body, ctx) => {
    if (body.id !== undefined && body.phone === undefined)
      return { by: 'id' as const, id: body.id, code: body.code };
    if (body.phone !== undefined && body.id === undefined)
      return { by: 'phone' as const, phone: body.phone, code: body.code };
    ctx.issues.push({ code: 'custom', input: body, message: 'Give exactly one of id or phone.' });
    return z.NEVER;
  }),
);

export const eraseRequest = z.strictObject({ phone: field('phone', 64) }, unknownFields);
