import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  EndpointType,
  type IApiKey,
  type IResource,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  MockIntegration,
  PassthroughBehavior,
  Period,
  type RequestValidator,
  ResponseType,
  RestApi,
  SecurityPolicy,
  type UsagePlan,
} from 'aws-cdk-lib/aws-apigateway';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_KEY_REFUSED_MESSAGE, type ErrorCode } from '#platform/errors.ts';
import { type FunctionName, MEDIA_TYPES, ROUTES, type Route } from '#platform/routes.ts';
import type { Settings } from './settings.ts';
import type { WebhookFunction } from './webhook-capacity.ts';

/** Fixed, so the API's URL can be built from its id alone (see `publicUrl`). */
export const STAGE_NAME = 'prod';

/** Plivo's webhooks: signature-checked, no API key, served by the HTTP API (infra/webhook-api.ts). */
export const WEBHOOK_ROUTES = ROUTES.filter(
  (route): route is Route & { function: WebhookFunction } => route.auth === 'plivo-signature',
);

/** The app routes: API key, usage plan and the optional WAF, on this REST API. */
export const APP_ROUTES = ROUTES.filter((route) => route.auth === 'api-key');

/**
 * No JSON-schema body models: a gateway model answers 400 before the function can say 413 (a body over 16 KB
 * that also breaks the schema), invalid_json (a body that is not JSON) or a field's own code, so the same request
 * would get another answer on AWS than locally. The functions validate every body (lib/verification/requests.ts); the
 * validator below checks the app methods' declared parameters (and would check any body model added later).
 */

interface GatewayError {
  type: ResponseType;
  /** Unset keeps API Gateway's own status (DEFAULT_4XX covers several). */
  statusCode?: string;
  code: ErrorCode;
  /** Gateway response templates allow plain `$context` substitution, no VTL. */
  message: string;
  retryAfterSeconds?: number;
}

/** Everything API Gateway answers by itself, in the contract's error shape. */
const GATEWAY_ERRORS: readonly GatewayError[] = [
  // A missing, unknown, disabled or rotated-away key: API Gateway cannot tell them apart, and keeps its 403.
  {
    type: ResponseType.INVALID_API_KEY,
    statusCode: '403',
    code: 'forbidden',
    message: API_KEY_REFUSED_MESSAGE,
  },
  {
    type: ResponseType.THROTTLED,
    statusCode: '429',
    code: 'rate_limited',
    message: 'Too many requests for this API key; retry after the delay in Retry-After.',
    retryAfterSeconds: 1,
  },
  {
    type: ResponseType.QUOTA_EXCEEDED,
    statusCode: '429',
    code: 'rate_limited',
    message: 'This API key has used its request quota for the period.',
    // The quota resets at the start of the next period; an hour is a hint, not a promise.
    retryAfterSeconds: 3600,
  },
  {
    type: ResponseType.BAD_REQUEST_BODY,
    statusCode: '400',
    code: 'invalid_request',
    message: 'The body does not match the request schema: $context.error.validationErrorString',
  },
  {
    type: ResponseType.BAD_REQUEST_PARAMETERS,
    statusCode: '400',
    code: 'invalid_request',
    message: 'A required request parameter is missing: $context.error.validationErrorString',
  },
  // Denials by AWS WAF, a resource policy or an authorizer, and IAM signature failures: keep the gateway's 403.
  ...[
    ResponseType.WAF_FILTERED,
    ResponseType.ACCESS_DENIED,
    ResponseType.EXPIRED_TOKEN,
    ResponseType.INVALID_SIGNATURE,
  ].map((type) => ({ type, code: 'forbidden' as const, message: 'The request was refused by policy.' })),
  {
    type: ResponseType.UNAUTHORIZED,
    statusCode: '401',
    code: 'unauthorized',
    message: 'The request is not authenticated.',
  },
  {
    type: ResponseType.RESOURCE_NOT_FOUND,
    statusCode: '404',
    code: 'route_not_found',
    message: 'No such route.',
  },
  {
    type: ResponseType.REQUEST_TOO_LARGE,
    statusCode: '413',
    code: 'payload_too_large',
    message: 'The body is too large.',
  },
  {
    type: ResponseType.UNSUPPORTED_MEDIA_TYPE,
    statusCode: '415',
    code: 'unsupported_media_type',
    message: 'This content type is not supported here.',
  },
  {
    // API Gateway's answer for a path no resource matches.
    type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
    statusCode: '404',
    code: 'route_not_found',
    message: 'No such route.',
  },
  // Any 4xx type not above (none today), with the gateway's own status.
  {
    type: ResponseType.DEFAULT_4XX,
    code: 'invalid_request',
    message: 'The request was refused ($context.error.responseType).',
  },
  {
    // The function did not answer within API Gateway's 29 s (every function's own timeout is far shorter,
    // so this means something unforeseen). Whether the request took effect is unknown: say so, not 500.
    type: ResponseType.INTEGRATION_TIMEOUT,
    statusCode: '504',
    code: 'gateway_timeout',
    message:
      'The service did not answer in time; whether the request took effect is unknown. Read the verification, or send again with the same Idempotency-Key.',
  },
  {
    type: ResponseType.DEFAULT_5XX,
    statusCode: '500',
    code: 'internal_error',
    message: 'Something went wrong on our side.',
  },
];

/** The headers every function response carries too (lib/platform/http.ts), as API Gateway mapping literals. */
const COMMON_HEADERS = {
  'Content-Type': "'application/json; charset=utf-8'",
  'Cache-Control': "'no-store'",
  'X-Content-Type-Options': "'nosniff'",
};

export const errorBody = (code: ErrorCode, message: string) => JSON.stringify({ error: { code, message } });

export interface VoiceOtpApiProps {
  functions: Record<FunctionName, IFunction>;
  settings: Pick<Settings, 'throttle' | 'quota' | 'customDomain' | 'apiGatewayLogsRole'>;
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
}

/**
 * The REST API: exactly the app routes of lib/platform/routes.ts, API keys with a usage plan, JSON access logs without
 * query strings, and API Gateway's own errors in our error shape. Plivo's webhooks are on the cheaper HTTP
 * API (infra/webhook-api.ts).
 */
export class VoiceOtpApi extends Construct {
  readonly restApi: RestApi;
  readonly apiKey: IApiKey;
  /** The app backends' plan: every API key on it is a tenant (npm run tenants adds them). */
  readonly usagePlan: UsagePlan;
  readonly accessLogs: LogGroup;
  /** The base of the app routes' URLs (output ApiUrl), known before deployment and free of dependency cycles. */
  readonly publicUrl: string;

  constructor(scope: Construct, id: string, props: VoiceOtpApiProps) {
    super(scope, id);
    const { settings } = props;
    const stack = Stack.of(this);

    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    this.restApi = new RestApi(this, 'Api', {
      restApiName: `${stack.stackName}-api`,
      description: 'voice-otp: phone verification by voice call',
      endpointTypes: [EndpointType.REGIONAL],
      // API Gateway writes logs through one role per account and region (AWS::ApiGateway::Account); without
      // it, deploying a stage with logging fails. Created here unless the operator's account already has one
      // (apiGatewayLogsRole=false). Kept on teardown: other APIs in the account may rely on it.
      cloudWatchRole: settings.apiGatewayLogsRole,
      ...(settings.apiGatewayLogsRole && { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN }),
      deployOptions: {
        stageName: STAGE_NAME,
        // Standard fields only: the resource path template, never the path or query. The answer URL's query
        // carries a sealed token, which must not land in logs.
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        // X-Ray on the stage would record full request URLs, query included; the functions trace themselves.
        tracingEnabled: false,
      },
    });

    // Bodies too, though no method maps a body model (see above): cdk-nag's APIG2 asks for both.
    const validator = this.restApi.addRequestValidator('Validator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    this.addRoutes(props.functions, validator);
    this.addGatewayResponses();

    this.usagePlan = this.restApi.addUsagePlan('AppUsagePlan', {
      name: `${stack.stackName}-apps`,
      description: 'App backends: per-key throttling and quota',
      throttle: settings.throttle,
      quota: { limit: settings.quota.limit, period: Period[settings.quota.period] },
      apiStages: [{ api: this.restApi, stage: this.restApi.deploymentStage }],
    });
    const plan = this.usagePlan;
    // The first tenant; npm run tenants adds more (verifications, limits and settings belong to each).
    this.apiKey = this.restApi.addApiKey('DefaultApiKey', {
      description: 'voice-otp default app key; value: aws apigateway get-api-key --include-value',
    });
    plan.addApiKey(this.apiKey);

    if (settings.customDomain) {
      // Mapped at the root, so https://<domain>/v1/... reaches the stage.
      this.restApi.addDomainName('CustomDomain', {
        domainName: settings.customDomain.domainName,
        certificate: Certificate.fromCertificateArn(
          this,
          'Certificate',
          settings.customDomain.certificateArn,
        ),
        endpointType: EndpointType.REGIONAL,
        securityPolicy: SecurityPolicy.TLS_1_2,
      });
      this.publicUrl = `https://${settings.customDomain.domainName}`;
    } else {
      // Built from the API id rather than `restApi.url`, which points at the stage: the stage depends on the
      // methods, the methods on the functions, and a function reading this URL would depend on the stage.
      this.publicUrl = `https://${this.restApi.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${STAGE_NAME}`;
    }
  }

  /** One resource per distinct path of APP_ROUTES, its methods, and an ANY method answering 405 for the rest. */
  private addRoutes(functions: Record<FunctionName, IFunction>, validator: RequestValidator): void {
    const integrations = new Map<FunctionName, LambdaIntegration>();
    const integrationFor = (name: FunctionName) => {
      let integration = integrations.get(name);
      if (!integration) {
        integration = new LambdaIntegration(functions[name], { allowTestInvoke: false });
        integrations.set(name, integration);
      }
      return integration;
    };

    const byResource = Map.groupBy(APP_ROUTES, (route) => route.resource);
    for (const [path, routes] of byResource) {
      const resource = this.restApi.root.resourceForPath(path);
      const requestParameters = Object.fromEntries(
        [...path.matchAll(/\{(\w+)\}/g)].map((m) => [`method.request.path.${m[1]}`, true]),
      );
      for (const route of routes) {
        resource.addMethod(route.method, integrationFor(route.function), {
          apiKeyRequired: true,
          operationName: route.function,
          requestValidator: validator,
          requestParameters,
        });
      }
      this.addMethodNotAllowed(
        resource,
        routes.map((route) => route.method),
      );
    }
  }

  /**
   * Other methods on a known path: 405 from API Gateway itself (a MOCK integration, no Lambda invocation).
   * It still asks for the API key first, like the path's real methods.
   */
  private addMethodNotAllowed(resource: IResource, allowed: string[]): void {
    const statusCode = '405';
    const answer = JSON.stringify({ statusCode: 405 });
    resource.addMethod(
      'ANY',
      new MockIntegration({
        // The two media types this API speaks; any other is refused as 415 in our error shape.
        passthroughBehavior: PassthroughBehavior.NEVER,
        requestTemplates: Object.fromEntries(MEDIA_TYPES.map((type) => [type, answer])),
        integrationResponses: [
          {
            statusCode,
            responseTemplates: {
              // Integration response templates are VTL, so the sentence can name the method like lib/platform/http.ts.
              'application/json': errorBody(
                'method_not_allowed',
                '$context.httpMethod is not allowed on $context.resourcePath.',
              ),
            },
            responseParameters: {
              'method.response.header.Allow': `'${allowed.join(', ')}'`,
              ...Object.fromEntries(
                Object.entries(COMMON_HEADERS).map(([name, value]) => [
                  `method.response.header.${name}`,
                  value,
                ]),
              ),
            },
          },
        ],
      }),
      {
        apiKeyRequired: true,
        operationName: 'methodNotAllowed',
        methodResponses: [
          {
            statusCode,
            responseParameters: Object.fromEntries(
              ['Allow', ...Object.keys(COMMON_HEADERS)].map((name) => [
                `method.response.header.${name}`,
                true,
              ]),
            ),
          },
        ],
      },
    );
  }

  private addGatewayResponses(): void {
    for (const error of GATEWAY_ERRORS) {
      this.restApi.addGatewayResponse(error.type.responseType, {
        type: error.type,
        ...(error.statusCode && { statusCode: error.statusCode }),
        responseHeaders: {
          ...COMMON_HEADERS,
          ...(error.retryAfterSeconds !== undefined && { 'Retry-After': `'${error.retryAfterSeconds}'` }),
        },
        templates: { 'application/json': errorBody(error.code, error.message) },
      });
    }
  }
}
