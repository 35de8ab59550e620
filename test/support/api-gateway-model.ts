import ajvDraft04 from 'ajv-draft-04';
import type { APIGatewayProxyEvent } from 'aws-lambda';

/**
 * What API Gateway answers by itself for a REST proxy event, read from a synthesized template: the resource
 * and method it matches, the API key check, the request validator (required parameters; body models, by
 * draft 4 JSON Schema, the draft API Gateway models use), the mock 405 method's media types, and the gateway
 * responses that turn each refusal into a status and an error code. `function` means the request reaches the
 * Lambda, which then decides.
 */
export type GatewayOutcome =
  | { by: 'gateway'; responseType: string; status: number; code: string }
  | { by: 'function' };

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}

interface MethodProps {
  HttpMethod: string;
  ResourceId: { Ref?: string };
  ApiKeyRequired?: boolean;
  RequestValidatorId?: { Ref: string };
  RequestParameters?: Record<string, boolean>;
  RequestModels?: Record<string, { Ref: string }>;
  Integration: {
    Type: string;
    PassthroughBehavior?: string;
    RequestTemplates?: Record<string, string>;
    IntegrationResponses?: Array<{ StatusCode: string; ResponseTemplates?: Record<string, string> }>;
  };
}

/** API Gateway's own status for each response type, when a gateway response does not set one. */
const DEFAULT_STATUS: Record<string, number> = {
  MISSING_AUTHENTICATION_TOKEN: 403,
  INVALID_API_KEY: 403,
  BAD_REQUEST_BODY: 400,
  BAD_REQUEST_PARAMETERS: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  REQUEST_TOO_LARGE: 413,
};

const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export function apiGatewayModel(template: { Resources: Record<string, Resource> }) {
  const all = template.Resources;
  const ofType = (type: string) => Object.entries(all).filter(([, resource]) => resource.Type === type);
  // A CommonJS module whose class is also its own `default`: the one spelling that types and runs under ESM.
  const ajv = new ajvDraft04.default({ strict: false });

  const paths = new Map<string, string>();
  const pathOf = (id: string): string => {
    const known = paths.get(id);
    if (known !== undefined) return known;
    const props = all[id]?.Properties as { PathPart: string; ParentId: { Ref?: string } };
    const parent = props.ParentId.Ref;
    const path = `${parent && all[parent]?.Type === 'AWS::ApiGateway::Resource' ? pathOf(parent) : ''}/${props.PathPart}`;
    paths.set(id, path);
    return path;
  };
  const methods = ofType('AWS::ApiGateway::Method').map(([, method]) => {
    const props = method.Properties as unknown as MethodProps;
    return { ...props, path: props.ResourceId.Ref ? pathOf(props.ResourceId.Ref) : '/' };
  });

  const gatewayResponse = (responseType: string): GatewayOutcome => {
    const responses = ofType('AWS::ApiGateway::GatewayResponse').map(
      ([, response]) =>
        response.Properties as {
          ResponseType: string;
          StatusCode?: string;
          ResponseTemplates: Record<string, string>;
        },
    );
    const response =
      responses.find((r) => r.ResponseType === responseType) ??
      responses.find((r) => r.ResponseType === 'DEFAULT_4XX');
    const status = Number(response?.StatusCode ?? DEFAULT_STATUS[responseType] ?? 0);
    const body = JSON.parse(response?.ResponseTemplates['application/json'] ?? '{}') as {
      error?: { code?: string };
      message?: string;
    };
    return {
      by: 'gateway',
      responseType,
      status,
      code: body.error?.code ?? `(untranslated ${body.message})`,
    };
  };

  return (event: APIGatewayProxyEvent): GatewayOutcome => {
    const bodyBytes = event.body
      ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8')
      : Buffer.alloc(0);
    if (bodyBytes.length > MAX_PAYLOAD_BYTES) return gatewayResponse('REQUEST_TOO_LARGE');

    const onPath = methods.filter((method) => method.path === event.resource);
    if (onPath.length === 0) return gatewayResponse('MISSING_AUTHENTICATION_TOKEN');
    const method =
      onPath.find((m) => m.HttpMethod === event.httpMethod) ?? onPath.find((m) => m.HttpMethod === 'ANY');
    if (!method) return gatewayResponse('MISSING_AUTHENTICATION_TOKEN');

    if (method.ApiKeyRequired && !event.requestContext.identity.apiKeyId) {
      return gatewayResponse('INVALID_API_KEY');
    }

    const header = (name: string) =>
      Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
    // Without a Content-Type, API Gateway takes the body as application/json.
    const mediaType =
      (header('content-type') ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';

    const validator = method.RequestValidatorId && all[method.RequestValidatorId.Ref]?.Properties;
    if (validator?.ValidateRequestParameters) {
      for (const [parameter, required] of Object.entries(method.RequestParameters ?? {})) {
        const [, , where, name = ''] = parameter.split('.');
        const value =
          where === 'path'
            ? event.pathParameters?.[name]
            : where === 'header'
              ? header(name)
              : event.queryStringParameters?.[name];
        if (required && !value) return gatewayResponse('BAD_REQUEST_PARAMETERS');
      }
    }
    const model = method.RequestModels?.[mediaType] ?? method.RequestModels?.$default;
    if (validator?.ValidateRequestBody && model) {
      const schema = all[model.Ref]?.Properties.Schema as object;
      let body: unknown;
      try {
        body = JSON.parse(bodyBytes.toString('utf8'));
      } catch {
        return gatewayResponse('BAD_REQUEST_BODY');
      }
      if (!ajv.validate(schema, body)) return gatewayResponse('BAD_REQUEST_BODY');
    }

    if (method.Integration.Type === 'MOCK') {
      const mapped = Object.keys(method.Integration.RequestTemplates ?? {});
      if (method.Integration.PassthroughBehavior === 'NEVER' && !mapped.includes(mediaType)) {
        return gatewayResponse('UNSUPPORTED_MEDIA_TYPE');
      }
      const answer = method.Integration.IntegrationResponses?.[0];
      const body = JSON.parse(answer?.ResponseTemplates?.['application/json'] ?? '{}') as {
        error?: { code?: string };
      };
      return {
        by: 'gateway',
        responseType: 'MOCK',
        status: Number(answer?.StatusCode),
        code: body.error?.code ?? '',
      };
    }
    return { by: 'function' };
  };
}
