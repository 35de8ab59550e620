/**
 * Generated from openapi.yaml by openapi-typescript: `npm run generate -w @voice-otp/client`.
 * Do not edit; a test fails when it drifts from the document.
 */

export interface paths {
    "/v1/verifications": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start a verification and call the phone, or send it an SMS or a WhatsApp message
         * @description Validates the number, creates a verification with a fresh code (stored only as a keyed hash) and asks
         *     Plivo to call the phone (`channel: voice`), to send it an SMS (`channel: sms`, mobile numbers only) or
         *     a WhatsApp authentication template (`channel: whatsapp`, mobile numbers only, on a stack with WhatsApp
         *     settings: else 403 `channel_not_allowed`). A new send for a phone cancels that phone's older pending
         *     verification (for the same API key) once the new call or message has gone out. Every limit counts
         *     every channel; SMS and WhatsApp also have a daily cap of their own. Limits and refusals: see
         *     SECURITY.md.
         */
        post: operations["startVerification"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/verifications/check": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Check a code
         * @description By `id`, or by `phone` for that phone's latest pending verification. Spaces and hyphens in `code` are
         *     ignored. Every check reserves one attempt before its code is tested, so at most `maxAttempts` (5) codes
         *     are ever tested, however many checks arrive at once; after 5 wrong codes even the right one is refused.
         *     A check that finds every attempt reserved by checks still in flight tests nothing and answers
         *     `pending` with `attemptsLeft: 0`. A phone never seen and a phone without a pending verification both
         *     answer 404 (so does a number in E.164 form that a send would have refused: `phone` must only be E.164
         *     here).
         */
        post: operations["checkVerification"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/verifications/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read a verification, its call or its message */
        get: operations["getVerification"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/verifications/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a pending verification
         * @description A call already ringing is not stopped, but the code it speaks no longer verifies.
         */
        post: operations["cancelVerification"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/phones/erase": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Forget a phone number (erasure request)
         * @description Deletes every verification of `phone` that this API key created (under every key of the key ring,
         *     so also during a key rotation) and the phone's pointer; afterwards those ids answer 404, and so does
         *     a check by this phone. Another API key's verifications of the same phone are left alone. The abuse
         *     counters stay: they hold only pseudonyms, and erasing them would let an abuser reset their limits.
         *     Idempotent: a phone never seen, or already erased, answers `{"erased": 0}`. `phone` must be E.164.
         */
        post: operations["erasePhone"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhook": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Show this API key's webhook endpoint (never its secret) */
        get: operations["getWebhook"];
        /**
         * Set this API key's webhook endpoint
         * @description One endpoint per API key; a PUT replaces it. Each PUT issues a new signing secret, `whsec_` + base64
         *     of 32 random bytes, shown only in this answer and stored sealed under the key ring. Deliveries are
         *     signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64
         *     HMAC-SHA256 of "<id>.<timestamp>.<body>">`) and retried after a non-2xx or no answer within 5 s:
         *     immediately, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h; the same `webhook-id` each time.
         *     The URL must be `https://`, carry no credentials and name a public host (no loopback, private,
         *     link-local, metadata or other reserved address, in any spelling, IPv4-mapped IPv6 included); the
         *     addresses its host resolves to are checked again at each delivery, and redirects are not followed.
         *     The local stack also accepts `http://127.0.0.1` and `http://localhost`.
         */
        put: operations["setWebhook"];
        post?: never;
        /**
         * Remove this API key's webhook endpoint
         * @description Deliveries still queued or waiting for a retry are dropped, not sent.
         */
        delete: operations["deleteWebhook"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * This API key's usage per UTC day, channel and destination country
         * @description Counted by the events function from the table's stream, off every request's path, so it trails the
         *     traffic by seconds (a verification is counted under the UTC day it was created, its first channel and
         *     its destination country). `started`: verifications created; `approved`: approved; `callsPlaced` and
         *     `messagesSent`: calls and messages (SMS or WhatsApp) Plivo took, a fallback's included; `fallbacks`:
         *     calls or SMS sent as a verification's fallback; `conversionRate`: approved over started (4 decimals),
         *     null before anything started. Each verification counts once per figure, however often the stream
         *     delivers its records. Only this API key's tenant's usage: another key's is never seen.
         */
        get: operations["getUsage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/plivo/answer": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Plivo asks what the call says (webhook)
         * @description Checked against Plivo's V3 signature over `PUBLIC_URL` + path + query and the form parameters before
         *     anything else. The sealed token `t` (AES-256-GCM, bound to `v`) carries the code; before any step
         *     that would speak it, the verification's status is read (one GetItem, no write). While it is pending,
         *     answers Plivo XML: greeting, the code digit by digit twice, "press 1 to hear it again" (up to 3
         *     times), goodbye. Otherwise a short message in the call's language (already verified, replaced by a
         *     newer code, canceled, expired, can no longer be used) and Hangup. The same route is Plivo's
         *     `fallback_url` (`s=fallback`): when the status cannot be read, the first answer fails with 503 so
         *     Plivo retries and then asks the fallback, which (like a key press) says to try again later.
         */
        post: operations["answerCall"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/plivo/hangup": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Plivo reports how the call ended (webhook)
         * @description Signed like the answer webhook. Records the call status, duration, bill duration, hangup cause and
         *     cost on the verification in one conditional write, once per CallUUID (retries change nothing). An
         *     unknown verification answers 200 and writes nothing. When the call reached no one (busy, no-answer,
         *     failed, machine, or completed without being answered) and the verification asked for a fallback, the
         *     same code is then sent once by SMS, from the sealed token `t` (see VerificationStatus.fallback); a
         *     refusal is recorded as the fallback's reason and still answers 200. 503 only when the store failed
         *     before the fallback was claimed, so Plivo's retry may try again.
         */
        post: operations["recordHangup"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/plivo/message-status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Plivo reports how far an SMS or WhatsApp message got (delivery report webhook)
         * @description Plivo's message status callback, served by the hangup function. Requires a valid
         *     `X-Plivo-Signature-V3` (or `-Ma-V3`) over `PUBLIC_URL` + path + query and the form parameters, like the
         *     call webhooks; Plivo's V2 message signatures alone (`X-Plivo-Signature-V2`) are refused with 403,
         *     since they cover neither the query nor the body and so can be replayed with any of them. Records the
         *     message's Status, Units, TotalAmount and ErrorCode on the verification in one conditional write: the
         *     first report binds its MessageUUID (reports for another one change nothing), and only a forward step
         *     (queued → sent → delivered → read, or undelivered / failed; `read` for WhatsApp alone) is written, so
         *     replays and late reports never move a message back and a final status never changes. A WhatsApp
         *     message's URL carries `c=whatsapp`: its reports are recorded on that message only, never on the SMS
         *     that fell back from it. An unknown verification or unusable parameters answer 200 and write nothing.
         *     A report of `failed` or `undelivered` (as recorded) makes the same code go out once by another
         *     channel when the verification asked for a fallback: an SMS by voice call, a WhatsApp message by
         *     WHATSAPP_FALLBACK (SMS by default).
         */
        post: operations["recordMessageStatus"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface webhooks {
    "verification.started": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * `verification.started` delivered to your webhook endpoint
         * @description Signed the Standard Webhooks way (see setWebhook); answer any 2xx within 5 s, or it is retried with the same `webhook-id`.
         */
        post: operations["verificationStartedEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "verification.approved": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * `verification.approved` delivered to your webhook endpoint
         * @description Signed the Standard Webhooks way (see setWebhook); answer any 2xx within 5 s, or it is retried with the same `webhook-id`.
         */
        post: operations["verificationApprovedEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "verification.canceled": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * `verification.canceled` delivered to your webhook endpoint
         * @description Signed the Standard Webhooks way (see setWebhook); answer any 2xx within 5 s, or it is retried with the same `webhook-id`.
         */
        post: operations["verificationCanceledEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "verification.failed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * `verification.failed` delivered to your webhook endpoint
         * @description Signed the Standard Webhooks way (see setWebhook); answer any 2xx within 5 s, or it is retried with the same `webhook-id`.
         */
        post: operations["verificationFailedEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "verification.max_attempts_reached": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * `verification.max_attempts_reached` delivered to your webhook endpoint
         * @description Signed the Standard Webhooks way (see setWebhook); answer any 2xx within 5 s, or it is retried with the same `webhook-id`.
         */
        post: operations["verificationMaxAttemptsReachedEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "verification.erased": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * `verification.erased` delivered to your webhook endpoint
         * @description Signed the Standard Webhooks way (see setWebhook); answer any 2xx within 5 s, or it is retried with the same `webhook-id`.
         */
        post: operations["verificationErasedEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "call.ended": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * `call.ended` delivered to your webhook endpoint
         * @description Signed the Standard Webhooks way (see setWebhook); answer any 2xx within 5 s, or it is retried with the same `webhook-id`.
         */
        post: operations["callEndedEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "message.status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * `message.status` delivered to your webhook endpoint
         * @description Signed the Standard Webhooks way (see setWebhook); answer any 2xx within 5 s, or it is retried with the same `webhook-id`.
         */
        post: operations["messageStatusEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface components {
    schemas: {
        /** @description `vrf_` and 26 Crockford base32 characters (130 random bits). */
        VerificationIdValue: string;
        /** @description E.164, e.g. +14155550123. */
        Phone: string;
        /** @description Masked: the country calling code and the last two digits, e.g. +1********23. */
        MaskedPhone: string;
        /**
         * @description Case-insensitive; answered in the canonical form.
         * @enum {string}
         */
        Locale: "en-US" | "en-GB" | "es-ES" | "es-US" | "fr-FR" | "de-DE" | "it-IT" | "pt-BR" | "hi-IN" | "ja-JP";
        SendRequest: {
            phone: components["schemas"]["Phone"];
            /** @description One of the supported locales (see Locale); defaults to this API key's tenant's default locale, else the operator's DEFAULT_LOCALE. */
            locale?: string;
            channel?: components["schemas"]["Channel"];
            /**
             * @description Whether another channel may be used once with the same code if the first one fails (a call busy,
             *     unanswered, failed or met by a machine; an SMS or WhatsApp message refused, failed or undelivered):
             *     voice and SMS fall back to each other, WhatsApp to the operator's WHATSAPP_FALLBACK (SMS by
             *     default); nothing falls back to WhatsApp. Defaults to the tenant's fallback setting, else the
             *     operator's FALLBACK (true), and is off when the tenant may not use the fallback's channel (`true`
             *     then answers 403 `channel_not_allowed`). Stored on the verification; its outcome is the status
             *     view's `fallback` block.
             */
            fallback?: boolean;
            /**
             * @description Android SMS Retriever: your app's 11-character hash. The SMS then carries it on a line of its own, so
             *     the app reads the code without the user typing it. Used whenever an SMS is sent (a WhatsApp
             *     message's SMS fallback included).
             */
            appHash?: string;
        };
        CheckRequest: {
            id?: string;
            phone?: components["schemas"]["Phone"];
            /** @description 4 to 10 ASCII digits once spaces and hyphens are removed. */
            code: string;
        } & (unknown | unknown);
        /** Format: date-time */
        Timestamp: string;
        /**
         * @description How the code reaches the phone; defaults to the operator's DEFAULT_CHANNEL (voice) when this API key's
         *     tenant may use it, else to the tenant's first channel. A channel the tenant or the stack does not allow
         *     answers 403 `channel_not_allowed`. `whatsapp`: an approved WhatsApp authentication template with the
         *     code and a copy-code button, on a stack with WhatsApp settings.
         * @enum {unknown}
         */
        Channel: "voice" | "sms" | "whatsapp";
        /**
         * @description The channel a fallback used; nothing falls back to WhatsApp.
         * @enum {unknown}
         */
        FallbackChannel: "voice" | "sms";
        /**
         * @description The message on the `message` block: an SMS, or a WhatsApp message. A WhatsApp message's SMS fallback
         *     takes its place on the block.
         * @enum {unknown}
         */
        MessageChannel: "sms" | "whatsapp";
        /**
         * @description A voice verification has a `call` block, an SMS or WhatsApp verification a `message` block. After a
         *     fallback at send (Plivo refused the first channel for this number and the other one went out instead,
         *     fallback on), the refused channel's block is `failed`, the other one's `queued`, and a `fallback` block
         *     says so.
         */
        CreatedVerification: {
            id: components["schemas"]["VerificationIdValue"];
            /** @constant */
            status: "pending";
            channel: components["schemas"]["Channel"];
            to: components["schemas"]["MaskedPhone"];
            locale: components["schemas"]["Locale"];
            createdAt: components["schemas"]["Timestamp"];
            expiresAt: components["schemas"]["Timestamp"];
            call?: {
                /** @enum {unknown} */
                status: "queued" | "failed";
            };
            message?: {
                channel: components["schemas"]["MessageChannel"];
                /** @enum {unknown} */
                status: "queued" | "failed";
            };
            /** @description The other channel went out at once because Plivo refused the first; a refused fallback answers the first channel's error (422) instead. */
            fallback?: {
                channel: components["schemas"]["FallbackChannel"];
                reason: null;
            };
        };
        /** @enum {unknown} */
        Status: "pending" | "approved" | "expired" | "max_attempts_reached" | "canceled" | "failed";
        /** @enum {unknown} */
        CallStatus: "queued" | "ringing" | "in-progress" | "completed" | "busy" | "no-answer" | "failed" | "machine" | "canceled";
        /**
         * @description Only ever moves forward: queued → sent → delivered → read, or undelivered / failed. `read` is
         *     WhatsApp's alone (the user opened the chat; users who turned read receipts off stay `delivered`).
         * @enum {unknown}
         */
        MessageStatus: "queued" | "sent" | "delivered" | "read" | "undelivered" | "failed";
        CheckResult: {
            id: components["schemas"]["VerificationIdValue"];
            /** @constant */
            valid: true;
            /** @constant */
            status: "approved";
        } | {
            id: components["schemas"]["VerificationIdValue"];
            /** @constant */
            valid: false;
            /** @enum {unknown} */
            status: "pending" | "max_attempts_reached";
            attemptsLeft: number;
        } | {
            id: components["schemas"]["VerificationIdValue"];
            /** @constant */
            valid: false;
            /** @enum {unknown} */
            status: "approved" | "expired" | "max_attempts_reached" | "canceled" | "failed";
        };
        /**
         * @description `call` once a call was placed (or tried), `message` once an SMS or WhatsApp message was sent (or
         *     tried): both once a fallback used the other kind. `fallback` once another channel was used or refused.
         */
        VerificationStatus: {
            id: components["schemas"]["VerificationIdValue"];
            status: components["schemas"]["Status"];
            channel: components["schemas"]["Channel"];
            to: components["schemas"]["MaskedPhone"];
            locale: components["schemas"]["Locale"];
            createdAt: components["schemas"]["Timestamp"];
            expiresAt: components["schemas"]["Timestamp"];
            /** @description Codes tested, the right one included. */
            attempts: number;
            attemptsLeft: number;
            call?: {
                status: components["schemas"]["CallStatus"];
                durationSeconds: number | null;
                billDurationSeconds: number | null;
                hangupCause: string | null;
                /** @description Plivo's TotalCost as a decimal string. */
                cost: string | null;
            };
            message?: {
                channel: components["schemas"]["MessageChannel"];
                status: components["schemas"]["MessageStatus"];
                /** @description Units Plivo billed (SMS segments; 1 for WhatsApp). */
                units: number | null;
                /** @description Plivo's TotalAmount as a decimal string. */
                cost: string | null;
                /** @description Plivo's ErrorCode when failed or undelivered. */
                errorCode: string | null;
            };
            /**
             * @description The same code sent once on another channel after the first one failed. `reason` is null when
             *     it was sent (its own `call` or `message` block follows it), else the error code a send refused the
             *     same way would get: rate_limited (a per-phone or per-key limit, or the fraud guard),
             *     daily_call_cap_reached, unsupported_number_type (SMS only to mobile numbers),
             *     country_not_allowed, number_blocked, message_rejected or call_rejected (Plivo refused; the block
             *     is then failed), telephony_unavailable, store_unavailable.
             */
            fallback?: {
                channel: components["schemas"]["FallbackChannel"];
                reason: string | null;
            };
        };
        /** @description Plivo's form parameters (CallUUID, From, To, Direction, CallStatus, Event, Digits, Duration, BillDuration, HangupCause, HangupCauseName, TotalCost, Machine, …). */
        PlivoCallParams: {
            [key: string]: string;
        };
        /** @description Plivo's message status parameters (MessageUUID, Type, Status, Units, TotalAmount, ErrorCode, To, From, ConversationID, …). */
        PlivoMessageParams: {
            [key: string]: string;
        };
        /** @enum {unknown} */
        WebhookEventType: "verification.started" | "verification.approved" | "verification.canceled" | "verification.failed" | "verification.max_attempts_reached" | "verification.erased" | "call.ended" | "message.status";
        WebhookRequest: {
            /** Format: uri */
            url: string;
            events: components["schemas"]["WebhookEventType"][];
        };
        UsageCounts: {
            started: number;
            approved: number;
            callsPlaced: number;
            messagesSent: number;
            fallbacks: number;
            conversionRate: number | null;
        };
        Usage: {
            /** Format: date */
            from: string;
            /** Format: date */
            to: string;
            totals: components["schemas"]["UsageCounts"];
            days: (components["schemas"]["UsageCounts"] & {
                /** Format: date */
                date: string;
                channel: components["schemas"]["Channel"];
                /** @description ISO 3166 alpha-2, or 001 for a non-geographic number. */
                country: string;
            })[];
        };
        Webhook: {
            /** Format: uri */
            url: string;
            events: components["schemas"]["WebhookEventType"][];
        };
        WebhookWithSecret: {
            /** Format: uri */
            url: string;
            events: components["schemas"]["WebhookEventType"][];
            /** @description The Standard Webhooks signing secret, shown only in this answer. */
            secret: string;
        };
        Error: {
            error: {
                /**
                 * @description Stable. `unauthorized` is API Gateway's answer to an authorizer's refusal, which this API does
                 *     not use (a refused key is 403 `forbidden`). `tenant_not_found` comes only from the local stack's
                 *     operator routes and `npm run tenants` (docs/tenants.md), never from these routes.
                 * @enum {unknown}
                 */
                code: "invalid_json" | "invalid_request" | "invalid_phone" | "invalid_code" | "unsupported_locale" | "unsupported_number_type" | "invalid_webhook_url" | "unauthorized" | "forbidden" | "country_not_allowed" | "channel_not_allowed" | "number_blocked" | "invalid_signature" | "verification_not_found" | "route_not_found" | "webhook_not_found" | "tenant_not_found" | "method_not_allowed" | "verification_not_pending" | "idempotency_key_reused" | "idempotency_request_in_progress" | "payload_too_large" | "unsupported_media_type" | "call_rejected" | "message_rejected" | "rate_limited" | "telephony_unavailable" | "daily_call_cap_reached" | "store_unavailable" | "internal_error" | "gateway_timeout";
                message: string;
            };
        };
        /**
         * verification.started
         * @description A verification was created and its code sent (a call placed, an SMS or a WhatsApp message sent). The EventBridge detail (detail-type = type) and the webhook body. Never a code, hash, token or full number.
         */
        "verification.started": {
            /** @constant */
            type: "verification.started";
            /** Format: date-time */
            createdAt: string;
            data: {
                verificationId: string;
                /** @enum {unknown} */
                status: "pending";
                /**
                 * @description The channel the code was first sent on.
                 * @enum {unknown}
                 */
                channel: "voice" | "sms" | "whatsapp";
                /** @description Masked: the country calling code and the last two digits. */
                to: string;
                call?: {
                    /** @enum {unknown} */
                    status: "queued" | "ringing" | "in-progress" | "completed" | "busy" | "no-answer" | "failed" | "machine" | "canceled";
                    durationSeconds: number | null;
                    billDurationSeconds: number | null;
                    hangupCause: string | null;
                    cost: string | null;
                };
                message?: {
                    /**
                     * @description The message on the block: an SMS, or a WhatsApp message (whose SMS fallback takes its place).
                     * @enum {unknown}
                     */
                    channel: "sms" | "whatsapp";
                    /**
                     * @description Only ever moves forward: queued → sent → delivered → read (WhatsApp only), or undelivered / failed.
                     * @enum {unknown}
                     */
                    status: "queued" | "sent" | "delivered" | "read" | "undelivered" | "failed";
                    units: number | null;
                    cost: string | null;
                    errorCode: string | null;
                };
                fallback?: {
                    /** @enum {unknown} */
                    channel: "voice" | "sms";
                    /** @description `sent` when the other channel was used, else the error code that refused it. */
                    reason: string;
                };
            };
        };
        /**
         * verification.approved
         * @description The right code was checked. The EventBridge detail (detail-type = type) and the webhook body. Never a code, hash, token or full number.
         */
        "verification.approved": {
            /** @constant */
            type: "verification.approved";
            /** Format: date-time */
            createdAt: string;
            data: {
                verificationId: string;
                /** @enum {unknown} */
                status: "approved";
                /**
                 * @description The channel the code was first sent on.
                 * @enum {unknown}
                 */
                channel: "voice" | "sms" | "whatsapp";
                /** @description Masked: the country calling code and the last two digits. */
                to: string;
                call?: {
                    /** @enum {unknown} */
                    status: "queued" | "ringing" | "in-progress" | "completed" | "busy" | "no-answer" | "failed" | "machine" | "canceled";
                    durationSeconds: number | null;
                    billDurationSeconds: number | null;
                    hangupCause: string | null;
                    cost: string | null;
                };
                message?: {
                    /**
                     * @description The message on the block: an SMS, or a WhatsApp message (whose SMS fallback takes its place).
                     * @enum {unknown}
                     */
                    channel: "sms" | "whatsapp";
                    /**
                     * @description Only ever moves forward: queued → sent → delivered → read (WhatsApp only), or undelivered / failed.
                     * @enum {unknown}
                     */
                    status: "queued" | "sent" | "delivered" | "read" | "undelivered" | "failed";
                    units: number | null;
                    cost: string | null;
                    errorCode: string | null;
                };
                fallback?: {
                    /** @enum {unknown} */
                    channel: "voice" | "sms";
                    /** @description `sent` when the other channel was used, else the error code that refused it. */
                    reason: string;
                };
            };
        };
        /**
         * verification.canceled
         * @description Canceled through the API, or superseded by a newer send to the same phone. The EventBridge detail (detail-type = type) and the webhook body. Never a code, hash, token or full number.
         */
        "verification.canceled": {
            /** @constant */
            type: "verification.canceled";
            /** Format: date-time */
            createdAt: string;
            data: {
                verificationId: string;
                /** @enum {unknown} */
                status: "canceled";
                /**
                 * @description The channel the code was first sent on.
                 * @enum {unknown}
                 */
                channel: "voice" | "sms" | "whatsapp";
                /** @description Masked: the country calling code and the last two digits. */
                to: string;
                call?: {
                    /** @enum {unknown} */
                    status: "queued" | "ringing" | "in-progress" | "completed" | "busy" | "no-answer" | "failed" | "machine" | "canceled";
                    durationSeconds: number | null;
                    billDurationSeconds: number | null;
                    hangupCause: string | null;
                    cost: string | null;
                };
                message?: {
                    /**
                     * @description The message on the block: an SMS, or a WhatsApp message (whose SMS fallback takes its place).
                     * @enum {unknown}
                     */
                    channel: "sms" | "whatsapp";
                    /**
                     * @description Only ever moves forward: queued → sent → delivered → read (WhatsApp only), or undelivered / failed.
                     * @enum {unknown}
                     */
                    status: "queued" | "sent" | "delivered" | "read" | "undelivered" | "failed";
                    units: number | null;
                    cost: string | null;
                    errorCode: string | null;
                };
                fallback?: {
                    /** @enum {unknown} */
                    channel: "voice" | "sms";
                    /** @description `sent` when the other channel was used, else the error code that refused it. */
                    reason: string;
                };
            };
        };
        /**
         * verification.failed
         * @description Its call could not be placed or its SMS or WhatsApp message not sent (and no fallback went out). The EventBridge detail (detail-type = type) and the webhook body. Never a code, hash, token or full number.
         */
        "verification.failed": {
            /** @constant */
            type: "verification.failed";
            /** Format: date-time */
            createdAt: string;
            data: {
                verificationId: string;
                /** @enum {unknown} */
                status: "failed";
                /**
                 * @description The channel the code was first sent on.
                 * @enum {unknown}
                 */
                channel: "voice" | "sms" | "whatsapp";
                /** @description Masked: the country calling code and the last two digits. */
                to: string;
                call?: {
                    /** @enum {unknown} */
                    status: "queued" | "ringing" | "in-progress" | "completed" | "busy" | "no-answer" | "failed" | "machine" | "canceled";
                    durationSeconds: number | null;
                    billDurationSeconds: number | null;
                    hangupCause: string | null;
                    cost: string | null;
                };
                message?: {
                    /**
                     * @description The message on the block: an SMS, or a WhatsApp message (whose SMS fallback takes its place).
                     * @enum {unknown}
                     */
                    channel: "sms" | "whatsapp";
                    /**
                     * @description Only ever moves forward: queued → sent → delivered → read (WhatsApp only), or undelivered / failed.
                     * @enum {unknown}
                     */
                    status: "queued" | "sent" | "delivered" | "read" | "undelivered" | "failed";
                    units: number | null;
                    cost: string | null;
                    errorCode: string | null;
                };
                fallback?: {
                    /** @enum {unknown} */
                    channel: "voice" | "sms";
                    /** @description `sent` when the other channel was used, else the error code that refused it. */
                    reason: string;
                };
            };
        };
        /**
         * verification.max_attempts_reached
         * @description The last allowed check was wrong: the code can no longer be approved. The EventBridge detail (detail-type = type) and the webhook body. Never a code, hash, token or full number.
         */
        "verification.max_attempts_reached": {
            /** @constant */
            type: "verification.max_attempts_reached";
            /** Format: date-time */
            createdAt: string;
            data: {
                verificationId: string;
                /** @enum {unknown} */
                status: "max_attempts_reached";
                /**
                 * @description The channel the code was first sent on.
                 * @enum {unknown}
                 */
                channel: "voice" | "sms" | "whatsapp";
                /** @description Masked: the country calling code and the last two digits. */
                to: string;
                call?: {
                    /** @enum {unknown} */
                    status: "queued" | "ringing" | "in-progress" | "completed" | "busy" | "no-answer" | "failed" | "machine" | "canceled";
                    durationSeconds: number | null;
                    billDurationSeconds: number | null;
                    hangupCause: string | null;
                    cost: string | null;
                };
                message?: {
                    /**
                     * @description The message on the block: an SMS, or a WhatsApp message (whose SMS fallback takes its place).
                     * @enum {unknown}
                     */
                    channel: "sms" | "whatsapp";
                    /**
                     * @description Only ever moves forward: queued → sent → delivered → read (WhatsApp only), or undelivered / failed.
                     * @enum {unknown}
                     */
                    status: "queued" | "sent" | "delivered" | "read" | "undelivered" | "failed";
                    units: number | null;
                    cost: string | null;
                    errorCode: string | null;
                };
                fallback?: {
                    /** @enum {unknown} */
                    channel: "voice" | "sms";
                    /** @description `sent` when the other channel was used, else the error code that refused it. */
                    reason: string;
                };
            };
        };
        /**
         * verification.erased
         * @description The verification was erased with POST /v1/phones/erase (its item is gone: its id answers 404 from now on); forget it too. Not sent for a deletion by the table's TTL. The EventBridge detail (detail-type = type) and the webhook body. Never a code, hash, token or full number.
         */
        "verification.erased": {
            /** @constant */
            type: "verification.erased";
            /** Format: date-time */
            createdAt: string;
            data: {
                verificationId: string;
                /**
                 * @description Its status when it was erased.
                 * @enum {unknown}
                 */
                status: "pending" | "approved" | "canceled" | "failed" | "max_attempts_reached";
                /**
                 * @description The channel the code was first sent on.
                 * @enum {unknown}
                 */
                channel: "voice" | "sms" | "whatsapp";
                /** @description Masked: the country calling code and the last two digits. */
                to: string;
            };
        };
        /**
         * call.ended
         * @description Plivo reported how the verification's call ended (once per call). The EventBridge detail (detail-type = type) and the webhook body. Never a code, hash, token or full number.
         */
        "call.ended": {
            /** @constant */
            type: "call.ended";
            /** Format: date-time */
            createdAt: string;
            data: {
                verificationId: string;
                /** @enum {unknown} */
                status: "pending" | "approved" | "canceled" | "failed" | "max_attempts_reached";
                /**
                 * @description The channel the code was first sent on.
                 * @enum {unknown}
                 */
                channel: "voice" | "sms" | "whatsapp";
                /** @description Masked: the country calling code and the last two digits. */
                to: string;
                call: {
                    /** @enum {unknown} */
                    status: "queued" | "ringing" | "in-progress" | "completed" | "busy" | "no-answer" | "failed" | "machine" | "canceled";
                    durationSeconds: number | null;
                    billDurationSeconds: number | null;
                    hangupCause: string | null;
                    cost: string | null;
                };
                message?: {
                    /**
                     * @description The message on the block: an SMS, or a WhatsApp message (whose SMS fallback takes its place).
                     * @enum {unknown}
                     */
                    channel: "sms" | "whatsapp";
                    /**
                     * @description Only ever moves forward: queued → sent → delivered → read (WhatsApp only), or undelivered / failed.
                     * @enum {unknown}
                     */
                    status: "queued" | "sent" | "delivered" | "read" | "undelivered" | "failed";
                    units: number | null;
                    cost: string | null;
                    errorCode: string | null;
                };
                fallback?: {
                    /** @enum {unknown} */
                    channel: "voice" | "sms";
                    /** @description `sent` when the other channel was used, else the error code that refused it. */
                    reason: string;
                };
            };
        };
        /**
         * message.status
         * @description The verification's SMS or WhatsApp message moved on (queued, sent, delivered, read, undelivered, failed), or an SMS fallback took its place. The EventBridge detail (detail-type = type) and the webhook body. Never a code, hash, token or full number.
         */
        "message.status": {
            /** @constant */
            type: "message.status";
            /** Format: date-time */
            createdAt: string;
            data: {
                verificationId: string;
                /** @enum {unknown} */
                status: "pending" | "approved" | "canceled" | "failed" | "max_attempts_reached";
                /**
                 * @description The channel the code was first sent on.
                 * @enum {unknown}
                 */
                channel: "voice" | "sms" | "whatsapp";
                /** @description Masked: the country calling code and the last two digits. */
                to: string;
                call?: {
                    /** @enum {unknown} */
                    status: "queued" | "ringing" | "in-progress" | "completed" | "busy" | "no-answer" | "failed" | "machine" | "canceled";
                    durationSeconds: number | null;
                    billDurationSeconds: number | null;
                    hangupCause: string | null;
                    cost: string | null;
                };
                message: {
                    /**
                     * @description The message on the block: an SMS, or a WhatsApp message (whose SMS fallback takes its place).
                     * @enum {unknown}
                     */
                    channel: "sms" | "whatsapp";
                    /**
                     * @description Only ever moves forward: queued → sent → delivered → read (WhatsApp only), or undelivered / failed.
                     * @enum {unknown}
                     */
                    status: "queued" | "sent" | "delivered" | "read" | "undelivered" | "failed";
                    units: number | null;
                    cost: string | null;
                    errorCode: string | null;
                };
                fallback?: {
                    /** @enum {unknown} */
                    channel: "voice" | "sms";
                    /** @description `sent` when the other channel was used, else the error code that refused it. */
                    reason: string;
                };
            };
        };
    };
    responses: {
        /** @description `webhook_not_found`: no webhook is set for this API key. */
        WebhookNotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "webhook_not_found";
                    };
                };
            };
        };
        /** @description `invalid_json`, `invalid_request`, `invalid_phone`, `invalid_code`, `unsupported_locale` or `unsupported_number_type`. */
        BadRequest: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "invalid_json" | "invalid_request" | "invalid_phone" | "invalid_code" | "unsupported_locale" | "unsupported_number_type";
                    };
                };
            };
        };
        /**
         * @description `forbidden`: the request has no valid, enabled API key in `x-api-key`: it is missing, unknown, disabled
         *     (`npm run tenants -- disable`) or was replaced by `npm run tenants -- rotate-key`. API Gateway answers
         *     all four alike (its INVALID_API_KEY response), and so does the local stack. On AWS also when AWS WAF
         *     or an API Gateway policy refuses the request.
         */
        KeyRefused: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "forbidden";
                    };
                };
            };
        };
        /**
         * @description `forbidden` (no valid, enabled API key: see KeyRefused), `channel_not_allowed` (a channel, or the
         *     fallback's channel asked for with `fallback: true`, that this API key's tenant or the stack does not
         *     allow: WhatsApp without its settings, say), `country_not_allowed` or `number_blocked`; nothing was
         *     stored or sent.
         */
        Forbidden: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "country_not_allowed" | "number_blocked" | "channel_not_allowed" | "forbidden";
                    };
                };
            };
        };
        /** @description `invalid_signature`: the Plivo signature is missing or wrong; nothing happened. `forbidden` when the source address is outside the setting webhookAllowedCidrs (checked first). */
        InvalidSignature: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "invalid_signature" | "forbidden";
                    };
                };
            };
        };
        /** @description `verification_not_found` (also for another API key's verification) or `route_not_found`. */
        NotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "verification_not_found" | "route_not_found";
                    };
                };
            };
        };
        /** @description `method_not_allowed`. */
        MethodNotAllowed: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "method_not_allowed";
                    };
                };
            };
        };
        /** @description `verification_not_pending`, `idempotency_key_reused` or `idempotency_request_in_progress`. */
        Conflict: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "verification_not_pending" | "idempotency_key_reused" | "idempotency_request_in_progress";
                    };
                };
            };
        };
        /** @description `payload_too_large`: bodies over 16 KB. */
        PayloadTooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "payload_too_large";
                    };
                };
            };
        };
        /** @description `unsupported_media_type`: app routes take application/json, webhooks application/x-www-form-urlencoded. */
        UnsupportedMediaType: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "unsupported_media_type";
                    };
                };
            };
        };
        /** @description `rate_limited`, with a Retry-After header. */
        RateLimited: {
            headers: {
                /** @description Seconds to wait before trying again. */
                "Retry-After": number;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "rate_limited";
                    };
                };
            };
        };
        /** @description `daily_call_cap_reached` (spend guard: the daily cap of all sends, or of SMS) or `store_unavailable` (DynamoDB did not answer within the store's time budget), with a Retry-After header. */
        Unavailable: {
            headers: {
                /** @description Seconds to wait before trying again. */
                "Retry-After": number;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "daily_call_cap_reached" | "store_unavailable";
                    };
                };
            };
        };
        /** @description `internal_error`, leaking nothing. */
        InternalError: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "internal_error";
                    };
                };
            };
        };
        /** @description Local stack only: `invalid_request`, the Host header names neither 127.0.0.1 nor localhost with the stack's port (a DNS-rebinding guard); nothing was routed. */
        Misdirected: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "invalid_request";
                    };
                };
            };
        };
        /** @description `gateway_timeout`, from API Gateway itself: the service did not answer within the gateway's 29 seconds (each function gives up long before, so this is not expected). Whether the request took effect is unknown: read the verification, or send again with the same Idempotency-Key, which replays the first answer. */
        GatewayTimeout: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "gateway_timeout";
                    };
                };
            };
        };
    };
    parameters: {
        VerificationId: components["schemas"]["VerificationIdValue"];
        /** @description Comma-separated base64 HMAC-SHA256 signatures; one of this header or X-Plivo-Signature-Ma-V3 must match. */
        PlivoSignature: string;
        PlivoSignatureMa: string;
        PlivoNonce: string;
        /** @description The same on every retry of one event; deduplicate on it. */
        WebhookId: string;
        /** @description Seconds since the epoch; refuse deliveries too far from now (replays). */
        WebhookTimestamp: string;
        /** @description `v1,` + base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` under the secret's bytes; space-separated when several. */
        WebhookSignature: string;
        /** @description The sealed token of the answer URL (AES-256-GCM, bound to `v`), for the other channel's fallback. */
        SealedToken: string;
    };
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    startVerification: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description 1 to 255 visible ASCII characters, scoped to the API key. The same key and body (compared as
                 *     canonical JSON) within 24 hours never places a second call. Once a send may have placed its call,
                 *     the key never runs again: a retry gets the first response (header `Idempotent-Replayed: true`) or,
                 *     if that was lost, a 202 built from the verification (502 `telephony_unavailable` if its call
                 *     failed). Final 4xx answers are replayed too; 429, 503 (anything with Retry-After) and a 5xx before
                 *     the call are not stored, so a retry runs afresh. A duplicate while the first runs, before its call,
                 *     gets 409 `idempotency_request_in_progress`; the same key with another body 409
                 *     `idempotency_key_reused`.
                 */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SendRequest"];
            };
        };
        responses: {
            /** @description The call, SMS or WhatsApp message is queued. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedVerification"];
                };
            };
            400: components["responses"]["BadRequest"];
            403: components["responses"]["Forbidden"];
            405: components["responses"]["MethodNotAllowed"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            421: components["responses"]["Misdirected"];
            /** @description Plivo refused to call this number (`call_rejected`) or to send it an SMS or a WhatsApp message (`message_rejected`; for WhatsApp most often a number not on WhatsApp); the verification is recorded as failed, unless another channel (fallback on) went out instead, which answers 202. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "call_rejected" | "message_rejected";
                        };
                    };
                };
            };
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            /** @description Plivo answered 5xx, could not be reached or timed out (`telephony_unavailable`); the verification is recorded as failed. */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "telephony_unavailable";
                        };
                    };
                };
            };
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    checkVerification: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CheckRequest"];
            };
        };
        responses: {
            /** @description The outcome of the check. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CheckResult"];
                };
            };
            400: components["responses"]["BadRequest"];
            403: components["responses"]["KeyRefused"];
            404: components["responses"]["NotFound"];
            405: components["responses"]["MethodNotAllowed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            421: components["responses"]["Misdirected"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    getVerification: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["VerificationId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The verification; expiry is applied when read. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["VerificationStatus"];
                };
            };
            400: components["responses"]["BadRequest"];
            403: components["responses"]["KeyRefused"];
            404: components["responses"]["NotFound"];
            405: components["responses"]["MethodNotAllowed"];
            421: components["responses"]["Misdirected"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    cancelVerification: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["VerificationId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Canceled. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        id: components["schemas"]["VerificationIdValue"];
                        /** @constant */
                        status: "canceled";
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            403: components["responses"]["KeyRefused"];
            404: components["responses"]["NotFound"];
            405: components["responses"]["MethodNotAllowed"];
            409: components["responses"]["Conflict"];
            421: components["responses"]["Misdirected"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    erasePhone: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @example +14155550123 */
                    phone: string;
                };
            };
        };
        responses: {
            /** @description How many verifications were deleted. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        erased: number;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            403: components["responses"]["KeyRefused"];
            405: components["responses"]["MethodNotAllowed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            421: components["responses"]["Misdirected"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    getWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The endpoint. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Webhook"];
                };
            };
            403: components["responses"]["KeyRefused"];
            404: components["responses"]["WebhookNotFound"];
            405: components["responses"]["MethodNotAllowed"];
            421: components["responses"]["Misdirected"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    setWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookRequest"];
            };
        };
        responses: {
            /** @description Set; the secret is shown this once. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookWithSecret"];
                };
            };
            /** @description `invalid_json`, `invalid_request` (an unknown event type too) or `invalid_webhook_url`. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "invalid_json" | "invalid_request" | "invalid_webhook_url";
                        };
                    };
                };
            };
            403: components["responses"]["KeyRefused"];
            405: components["responses"]["MethodNotAllowed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            421: components["responses"]["Misdirected"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    deleteWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            403: components["responses"]["KeyRefused"];
            404: components["responses"]["WebhookNotFound"];
            405: components["responses"]["MethodNotAllowed"];
            421: components["responses"]["Misdirected"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    getUsage: {
        parameters: {
            query?: {
                /** @description First UTC day, included. Defaults to `to`. */
                from?: string;
                /** @description Last UTC day, included. Defaults to today (UTC). At most 90 days from `from`. */
                to?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Totals over the days, and one row per day, channel and country that counted anything. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Usage"];
                };
            };
            /** @description `invalid_request`: a date that is not a real YYYY-MM-DD, `from` after `to`, more than 90 days, another query parameter, or one given twice. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @enum {unknown} */
                            code?: "invalid_request";
                        };
                    };
                };
            };
            403: components["responses"]["KeyRefused"];
            405: components["responses"]["MethodNotAllowed"];
            421: components["responses"]["Misdirected"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
            504: components["responses"]["GatewayTimeout"];
        };
    };
    answerCall: {
        parameters: {
            query: {
                v: components["schemas"]["VerificationIdValue"];
                /** @description Sealed code token. */
                t: string;
                /** @description Step: absent on answer, fallback (Plivo's fallback_url), gate or repeat. */
                s?: "fallback" | "gate" | "repeat";
                /** @description Repeat count. */
                r?: string;
            };
            header: {
                /** @description Comma-separated base64 HMAC-SHA256 signatures; one of this header or X-Plivo-Signature-Ma-V3 must match. */
                "X-Plivo-Signature-V3"?: components["parameters"]["PlivoSignature"];
                "X-Plivo-Signature-Ma-V3"?: components["parameters"]["PlivoSignatureMa"];
                "X-Plivo-Signature-V3-Nonce": components["parameters"]["PlivoNonce"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": components["schemas"]["PlivoCallParams"];
            };
        };
        responses: {
            /** @description Plivo XML. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/xml": string;
                };
            };
            403: components["responses"]["InvalidSignature"];
            405: components["responses"]["MethodNotAllowed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            421: components["responses"]["Misdirected"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    recordHangup: {
        parameters: {
            query: {
                v: components["schemas"]["VerificationIdValue"];
                /** @description The sealed token of the answer URL (AES-256-GCM, bound to `v`), for the other channel's fallback. */
                t: components["parameters"]["SealedToken"];
            };
            header: {
                /** @description Comma-separated base64 HMAC-SHA256 signatures; one of this header or X-Plivo-Signature-Ma-V3 must match. */
                "X-Plivo-Signature-V3"?: components["parameters"]["PlivoSignature"];
                "X-Plivo-Signature-Ma-V3"?: components["parameters"]["PlivoSignatureMa"];
                "X-Plivo-Signature-V3-Nonce": components["parameters"]["PlivoNonce"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": components["schemas"]["PlivoCallParams"];
            };
        };
        responses: {
            /** @description Recorded (or nothing to record). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/xml": string;
                };
            };
            403: components["responses"]["InvalidSignature"];
            405: components["responses"]["MethodNotAllowed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            421: components["responses"]["Misdirected"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    recordMessageStatus: {
        parameters: {
            query: {
                v: components["schemas"]["VerificationIdValue"];
                /** @description The sealed token of the answer URL (AES-256-GCM, bound to `v`), for the other channel's fallback. */
                t: components["parameters"]["SealedToken"];
                /** @description `whatsapp` on a WhatsApp message's URL; absent on an SMS's. Any other value records nothing. */
                c?: "whatsapp";
            };
            header: {
                /** @description Comma-separated base64 HMAC-SHA256 signatures; one of this header or X-Plivo-Signature-Ma-V3 must match. */
                "X-Plivo-Signature-V3"?: components["parameters"]["PlivoSignature"];
                "X-Plivo-Signature-Ma-V3"?: components["parameters"]["PlivoSignatureMa"];
                "X-Plivo-Signature-V3-Nonce": components["parameters"]["PlivoNonce"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-www-form-urlencoded": components["schemas"]["PlivoMessageParams"];
            };
        };
        responses: {
            /** @description Recorded (or nothing to record). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/xml": string;
                };
            };
            403: components["responses"]["InvalidSignature"];
            405: components["responses"]["MethodNotAllowed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            421: components["responses"]["Misdirected"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    verificationStartedEvent: {
        parameters: {
            query?: never;
            header: {
                /** @description The same on every retry of one event; deduplicate on it. */
                "webhook-id": components["parameters"]["WebhookId"];
                /** @description Seconds since the epoch; refuse deliveries too far from now (replays). */
                "webhook-timestamp": components["parameters"]["WebhookTimestamp"];
                /** @description `v1,` + base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` under the secret's bytes; space-separated when several. */
                "webhook-signature": components["parameters"]["WebhookSignature"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["verification.started"];
            };
        };
        responses: {
            /** @description Received; any other answer, or none within 5 s, is retried. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    verificationApprovedEvent: {
        parameters: {
            query?: never;
            header: {
                /** @description The same on every retry of one event; deduplicate on it. */
                "webhook-id": components["parameters"]["WebhookId"];
                /** @description Seconds since the epoch; refuse deliveries too far from now (replays). */
                "webhook-timestamp": components["parameters"]["WebhookTimestamp"];
                /** @description `v1,` + base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` under the secret's bytes; space-separated when several. */
                "webhook-signature": components["parameters"]["WebhookSignature"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["verification.approved"];
            };
        };
        responses: {
            /** @description Received; any other answer, or none within 5 s, is retried. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    verificationCanceledEvent: {
        parameters: {
            query?: never;
            header: {
                /** @description The same on every retry of one event; deduplicate on it. */
                "webhook-id": components["parameters"]["WebhookId"];
                /** @description Seconds since the epoch; refuse deliveries too far from now (replays). */
                "webhook-timestamp": components["parameters"]["WebhookTimestamp"];
                /** @description `v1,` + base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` under the secret's bytes; space-separated when several. */
                "webhook-signature": components["parameters"]["WebhookSignature"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["verification.canceled"];
            };
        };
        responses: {
            /** @description Received; any other answer, or none within 5 s, is retried. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    verificationFailedEvent: {
        parameters: {
            query?: never;
            header: {
                /** @description The same on every retry of one event; deduplicate on it. */
                "webhook-id": components["parameters"]["WebhookId"];
                /** @description Seconds since the epoch; refuse deliveries too far from now (replays). */
                "webhook-timestamp": components["parameters"]["WebhookTimestamp"];
                /** @description `v1,` + base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` under the secret's bytes; space-separated when several. */
                "webhook-signature": components["parameters"]["WebhookSignature"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["verification.failed"];
            };
        };
        responses: {
            /** @description Received; any other answer, or none within 5 s, is retried. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    verificationMaxAttemptsReachedEvent: {
        parameters: {
            query?: never;
            header: {
                /** @description The same on every retry of one event; deduplicate on it. */
                "webhook-id": components["parameters"]["WebhookId"];
                /** @description Seconds since the epoch; refuse deliveries too far from now (replays). */
                "webhook-timestamp": components["parameters"]["WebhookTimestamp"];
                /** @description `v1,` + base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` under the secret's bytes; space-separated when several. */
                "webhook-signature": components["parameters"]["WebhookSignature"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["verification.max_attempts_reached"];
            };
        };
        responses: {
            /** @description Received; any other answer, or none within 5 s, is retried. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    verificationErasedEvent: {
        parameters: {
            query?: never;
            header: {
                /** @description The same on every retry of one event; deduplicate on it. */
                "webhook-id": components["parameters"]["WebhookId"];
                /** @description Seconds since the epoch; refuse deliveries too far from now (replays). */
                "webhook-timestamp": components["parameters"]["WebhookTimestamp"];
                /** @description `v1,` + base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` under the secret's bytes; space-separated when several. */
                "webhook-signature": components["parameters"]["WebhookSignature"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["verification.erased"];
            };
        };
        responses: {
            /** @description Received; any other answer, or none within 5 s, is retried. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    callEndedEvent: {
        parameters: {
            query?: never;
            header: {
                /** @description The same on every retry of one event; deduplicate on it. */
                "webhook-id": components["parameters"]["WebhookId"];
                /** @description Seconds since the epoch; refuse deliveries too far from now (replays). */
                "webhook-timestamp": components["parameters"]["WebhookTimestamp"];
                /** @description `v1,` + base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` under the secret's bytes; space-separated when several. */
                "webhook-signature": components["parameters"]["WebhookSignature"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["call.ended"];
            };
        };
        responses: {
            /** @description Received; any other answer, or none within 5 s, is retried. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    messageStatusEvent: {
        parameters: {
            query?: never;
            header: {
                /** @description The same on every retry of one event; deduplicate on it. */
                "webhook-id": components["parameters"]["WebhookId"];
                /** @description Seconds since the epoch; refuse deliveries too far from now (replays). */
                "webhook-timestamp": components["parameters"]["WebhookTimestamp"];
                /** @description `v1,` + base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` under the secret's bytes; space-separated when several. */
                "webhook-signature": components["parameters"]["WebhookSignature"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["message.status"];
            };
        };
        responses: {
            /** @description Received; any other answer, or none within 5 s, is retried. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
}
