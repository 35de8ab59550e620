import * as z from 'zod/mini';
import { OUTCOME_EVENT_TYPES, type OutcomeEventType } from './outcome-events.ts';

/** Request bodies of the app routes. Each issue message is a sentence a developer can act on. */
const field = (name: string, maxLength: number) =>
  z
    .string({
      error: (issue) =>
        issue.input === undefined ? `${name} is required.` : `${name} must be a JSON string.`,
    })
    .check(z.maxLength(maxLength, `${name} is longer than ${maxLength} characters.`));

const unknownFields = {
  error: (issue: { code?: string; keys?: string[] }) =>
    issue.code === 'unrecognized_keys'
      ? `Unknown field: ${(issue.keys ?? []).map((key) => JSON.stringify(key.slice(0, 40))).join(', ')}.`
      : undefined,
};

export const sendRequest = z.strictObject(
  {
    phone: field('phone', 64),
    locale: z.optional(field('locale', 35)),
    channel: z.optional(z.enum(['voice', 'sms'], { error: 'channel must be "voice" or "sms".' })),
    fallback: z.optional(z.boolean({ error: 'fallback must be true or false.' })),
    // Android's SMS Retriever: the app's hash, 11 characters of base64 (lib/sms-text.ts).
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

export const webhookRequest = z.strictObject(
  {
    // The URL rules themselves (lib/webhook-url.ts) answer invalid_webhook_url; a 2,048-character URL is
    // their limit, this one only keeps a huge string from being parsed.
    url: field('url', 4096),
    events: z
      .array(
        z.enum(OUTCOME_EVENT_TYPES as [OutcomeEventType, ...OutcomeEventType[]], {
          error: `events may hold only ${OUTCOME_EVENT_TYPES.map((type) => `"${type}"`).join(', ')}.`,
        }),
        {
          error: (issue) =>
            issue.input === undefined ? 'events is required.' : 'events must be a JSON array of event types.',
        },
      )
      .check(
        z.minLength(1, 'events must name at least one event type.'),
        z.refine((events) => new Set(events).size === events.length, 'events names an event type twice.'),
      ),
  },
  unknownFields,
);

export const eraseRequest = z.strictObject({ phone: field('phone', 64) }, unknownFields);
