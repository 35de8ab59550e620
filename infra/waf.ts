import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ROUTES } from '../lib/routes.ts';
import { errorBody } from './api.ts';

export interface ApiFirewallProps {
  stage: Stage;
  /** Requests per client IP per 5 minutes on the app routes. */
  rateLimitPerFiveMinutes: number;
}

/** Seconds until a rate-based block is likely lifted: WAF re-evaluates over a sliding 5-minute window. */
const RETRY_AFTER_SECONDS = 300;

/**
 * Optional AWS WAF web ACL (setting `waf=true`): a per-IP rate limit on the app routes, answered in the
 * contract's shape (429 rate_limited with Retry-After). Plivo's webhooks are left out of the rule: Plivo
 * calls from a few addresses, and limiting them would drop calls in progress; the stage throttles them instead.
 */
export class ApiFirewall extends Construct {
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiFirewallProps) {
    super(scope, id);
    const metricName = (name: string) => `VoiceOtp${name}`;
    const webhookPaths = new Set(
      ROUTES.filter((route) => route.auth === 'plivo-signature').map((route) => route.resource),
    );
    const webhookMatches = [...webhookPaths].map(
      (path): CfnWebACL.StatementProperty => ({
        byteMatchStatement: {
          fieldToMatch: { uriPath: {} },
          // The stage name precedes the path on the execute-api host.
          positionalConstraint: 'CONTAINS',
          searchString: path,
          textTransformations: [{ priority: 0, type: 'NONE' }],
        },
      }),
    );

    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      // No sampling by default: sampled requests keep full URLs, and the answer webhook's query is a sealed token.
      visibilityConfig: {
        cloudWatchMetricsEnabled: true,
        metricName: metricName('WebAcl'),
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
          name: 'app-routes-rate-limit-per-ip',
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
          statement: {
            rateBasedStatement: {
              limit: props.rateLimitPerFiveMinutes,
              aggregateKeyType: 'IP',
              scopeDownStatement: { notStatement: { statement: anyOf(webhookMatches) } },
            },
          },
          // App routes carry no secrets in their URLs, so their blocked requests may be sampled.
          visibilityConfig: {
            cloudWatchMetricsEnabled: true,
            metricName: metricName('AppRateLimit'),
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

/** WAF's OR needs two statements or more. */
const anyOf = (statements: CfnWebACL.StatementProperty[]): CfnWebACL.StatementProperty =>
  statements.length === 1 && statements[0] ? statements[0] : { orStatement: { statements } };
