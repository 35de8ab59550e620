import { type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  type CfnStage,
  HttpApi,
  HttpMethod,
  type HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { WEBHOOK_ROUTES } from './api.ts';
import { acknowledge } from './nag.ts';
import type { Settings } from './settings.ts';
import type { WebhookFunction } from './webhook-capacity.ts';

export interface PlivoWebhookApiProps {
  functions: Record<WebhookFunction, IFunction>;
  settings: Pick<Settings, 'webhookThrottles'>;
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
}

/** The HTTP API's only stage: served at the API's root, so the base URL is the endpoint itself. */
const STAGE = '$default';

/** The route key API Gateway throttles and logs a webhook route under. */
const routeKey = (route: (typeof WEBHOOK_ROUTES)[number]) => `${route.method} ${route.resource}`;

/**
 * Plivo's webhooks (every route in WEBHOOK_ROUTES) on an HTTP API, the app routes staying on the REST API.
 *
 * Why an HTTP API (list prices, us-east-1, late 2025; SECURITY.md "Where Plivo's webhooks are served"): a
 * webhook request costs $1.00 per million there, against $3.50 on the REST API plus $0.60 for the WAF's
 * per-IP rule when waf=true. Lambda function URLs would add nothing but the invocation, but they have no
 * throttle at all (every junk request is an invocation), give each function a host of its own (one base URL
 * no longer builds every URL Plivo calls) and no access log. Neither can carry AWS WAF; putting CloudFront in
 * front to get it back charges per request again ($1.00 per million HTTPS requests plus WAF's $0.60), more
 * than the HTTP API alone. What replaces the WAF here:
 * - per-route throttles held at synth above Plivo's peak (infra/settings.ts), each route its own bucket, so a
 *   flood on one cannot use up another's, and throttled requests never invoke a function; with the
 *   functions' short refusals this bounds the concurrency a flood can take from the app routes;
 * - the signature check, first thing in each function (lib/channels/plivo-webhooks.ts), and, with webhookAllowedCidrs, a
 *   source-address check before it (the function sees the caller's address in the event);
 * - the WebhookRejectionRate alarm on this API's own 4xx and request counts (infra/monitoring.ts).
 *
 * Payload format 1.0: the functions read the REST API's event shape (resource, httpMethod, multi-value
 * query), which 1.0 keeps, so the handlers and the local gateway stay as they are.
 */
export class PlivoWebhookApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;
  /** The base of every URL given to Plivo (PUBLIC_URL): the signature covers it. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: PlivoWebhookApiProps) {
    super(scope, id);
    const { settings } = props;

    this.httpApi = new HttpApi(this, 'Api', {
      apiName: `${Stack.of(this).stackName}-webhooks`,
      description: "voice-otp: Plivo's webhooks (answer, hangup, SMS delivery reports), signature-checked",
      createDefaultStage: false,
    });

    const integrations = new Map<WebhookFunction, HttpLambdaIntegration>();
    const routes: Construct[] = [];
    for (const route of WEBHOOK_ROUTES) {
      let integration = integrations.get(route.function);
      if (!integration) {
        integration = new HttpLambdaIntegration(
          `${route.function}Integration`,
          props.functions[route.function],
          {
            payloadFormatVersion: PayloadFormatVersion.VERSION_1_0,
          },
        );
        integrations.set(route.function, integration);
      }
      // Only the method Plivo uses: any other method or path gets the HTTP API's own 404, with no invocation.
      for (const added of this.httpApi.addRoutes({
        path: route.resource,
        methods: [HttpMethod[route.method]],
        integration,
      })) {
        acknowledge(added, 'AwsSolutions-APIG4');
        routes.push(added);
      }
    }

    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.stage = this.httpApi.addStage('Stage', {
      stageName: STAGE,
      autoDeploy: true,
      // No route-level metrics (billed like custom metrics): the API serves only the webhooks, so its free
      // API-wide 4xx and counts are theirs, and the access log splits them by route.
      detailedMetricsEnabled: false,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        // The route key, never the path or its query: the answer URL's query carries a sealed token.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    // Each route its own bucket, sized for Plivo at the daily caps; the delivery-report route uses hangup's
    // values. The L2 stage sets only the default route settings. The settings name their routes by key string,
    // which gives CloudFormation no dependency: without one it may create the stage first, and API Gateway
    // refuses it ("Unable to find Route by key ... within the provided RouteSettings").
    this.stage.node.addDependency(...routes);
    (this.stage.node.defaultChild as CfnStage).routeSettings = Object.fromEntries(
      WEBHOOK_ROUTES.map((route) => [
        routeKey(route),
        {
          throttlingRateLimit: settings.webhookThrottles[route.function].rateLimit,
          throttlingBurstLimit: settings.webhookThrottles[route.function].burstLimit,
        },
      ]),
    );

    // From the API id, not the stage, like the REST API's URL: the functions read it, and the routes
    // depend on the functions.
    this.url = this.httpApi.apiEndpoint;
  }
}
