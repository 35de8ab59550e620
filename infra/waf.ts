import { Stack } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { errorBody } from './api.ts';

export interface ApiFirewallProps {
  stage: Stage;
  /** Requests per client IP per 5 minutes on the app routes. */
  rateLimitPerFiveMinutes: number;
}

/** Seconds until a rate-based block is likely lifted: WAF re-evaluates over a sliding 5-minute window. */
const RETRY_AFTER_SECONDS = 300;

const APP_RATE_RULE = 'app-routes-rate-limit-per-ip';

/**
 * Optional AWS WAF web ACL (setting `waf=true`) on the REST API, which serves only the app routes: a per-IP
 * rate limit answering 429 rate_limited in the contract's shape. Plivo's webhooks are on the HTTP API, which
 * WAF cannot attach to (infra/webhook-api.ts says what guards them instead). Rule and web ACL names double as
 * their metric names, so CloudWatch finds them under either.
 */
export class ApiFirewall extends Construct {
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiFirewallProps) {
    super(scope, id);
    const webAclName = `${Stack.of(this).stackName}-api`;

    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      name: webAclName,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: {
        cloudWatchMetricsEnabled: true,
        metricName: webAclName,
        sampledRequestsEnabled: false,
      },
      customResponseBodies: {
        rateLimited: {
          contentType: 'APPLICATION_JSON',
          content: errorBody(
            'rate_limited',
            'Too many requests from this address; retry after the delay in Retry-After.',
          ),
        },
      },
      rules: [
        {
          name: APP_RATE_RULE,
          priority: 0,
          action: {
            block: {
              customResponse: {
                responseCode: 429,
                customResponseBodyKey: 'rateLimited',
                responseHeaders: [{ name: 'Retry-After', value: String(RETRY_AFTER_SECONDS) }],
              },
            },
          },
          statement: { rateBasedStatement: { limit: props.rateLimitPerFiveMinutes, aggregateKeyType: 'IP' } },
          // App routes carry no secrets in their URLs, so their blocked requests may be sampled.
          visibilityConfig: {
            cloudWatchMetricsEnabled: true,
            metricName: APP_RATE_RULE,
            sampledRequestsEnabled: true,
          },
        },
      ],
    });

    new CfnWebACLAssociation(this, 'StageAssociation', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}
