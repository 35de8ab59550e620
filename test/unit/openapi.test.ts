import { readFileSync } from 'node:fs';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ErrorCode } from '#platform/errors.ts';
import { LOCALES } from '#platform/locales.ts';
import { ROUTES } from '#platform/routes.ts';

const source = readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8');
const document = parse(source) as {
  paths: Record<string, Record<string, { security?: unknown[] }>>;
  components: {
    schemas: {
      Error: { properties: { error: { properties: { code: { enum: string[] } } } } };
      Locale: { enum: string[] };
    };
  };
};

describe('openapi.yaml', () => {
  it('passes the recommended lint rules', async () => {
    const problems = await lintFromString({
      source,
      absoluteRef: 'openapi.yaml',
      config: await createConfig({ extends: ['recommended'] }),
    });
    const errors = problems.filter((p) => p.severity === 'error');
    expect(errors.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
  });

  it('describes every route the handlers serve, and nothing else', () => {
    const documented = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const served = ROUTES.map((route) => `${route.method} ${route.resource}`);
    expect(documented.sort()).toEqual(served.sort());
  });

  it('requires the API key exactly on the app routes', () => {
    for (const route of ROUTES) {
      const operation = document.paths[route.resource]?.[route.method.toLowerCase()];
      expect(operation?.security, route.resource).toEqual(route.auth === 'api-key' ? undefined : []);
    }
  });

  it("documents API Gateway's 504 on every app route (the gateway alone answers it)", () => {
    for (const route of ROUTES.filter((r) => r.auth === 'api-key')) {
      const operation = document.paths[route.resource]?.[route.method.toLowerCase()] as
        | { responses?: Record<string, { $ref?: string }> }
        | undefined;
      expect(operation?.responses?.['504'], `${route.method} ${route.resource}`).toEqual({
        $ref: '#/components/responses/GatewayTimeout',
      });
    }
  });

  it('lists every error code and locale the code knows', () => {
    const codes: Record<ErrorCode, true> = {
      invalid_json: true,
      invalid_request: true,
      invalid_phone: true,
      invalid_code: true,
      unsupported_locale: true,
      unsupported_number_type: true,
      invalid_webhook_url: true,
      unauthorized: true,
      forbidden: true,
      channel_not_allowed: true,
      tenant_not_found: true,
      country_not_allowed: true,
      number_blocked: true,
      invalid_signature: true,
      verification_not_found: true,
      route_not_found: true,
      webhook_not_found: true,
      method_not_allowed: true,
      verification_not_pending: true,
      idempotency_key_reused: true,
      idempotency_request_in_progress: true,
      payload_too_large: true,
      unsupported_media_type: true,
      call_rejected: true,
      message_rejected: true,
      rate_limited: true,
      telephony_unavailable: true,
      daily_call_cap_reached: true,
      store_unavailable: true,
      internal_error: true,
      gateway_timeout: true,
    };
    expect(document.components.schemas.Error.properties.error.properties.code.enum.sort()).toEqual(
      Object.keys(codes).sort(),
    );
    expect(document.components.schemas.Locale.enum).toEqual(LOCALES);
  });
});
