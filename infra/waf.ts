import { type Duration, Stack } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { CfnIPSet, CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { errorBody, WEBHOOK_ROUTES } from './api.ts';

export interface ApiFirewallProps {
  stage: Stage;
  /** Requests per client IP per 5 minutes on the app routes. */
  rateLimitPerFiveMinutes: number;
  /** Requests per client IP per 5 minutes on Plivo's webhook routes (above Plivo's own peak: settings.ts). */
  webhookRateLimitPerFiveMinutes: number;
  /** When not empty, only these addresses may call the webhook routes. */
  webhookAllowedCidrs: readonly string[];
}

/** Seconds until a rate-based block is likely lifted: WAF re-evaluates over a sliding 5-minute window. */
const RETRY_AFTER_SECONDS = 300;

const RULES = {
  webhookAllowlist: 'webhook-source-allowlist',
  webhookRate: 'webhook-rate-limit-per-ip',
  appRate: 'app-routes-rate-limit-per-ip',
} as const;

/**
 * Optional AWS WAF web ACL (setting `waf=true`), answering in the contract's shape:
 * - webhook routes: a per-IP rate limit of their own, sized above Plivo's peak from one address, so a flood
 *   from a few addresses is cut off before it uses up the webhook stage throttles (429 rate_limited); and,
 *   opt-in, an allowlist of Plivo's source addresses (403 forbidden for any other);
 * - app routes: a per-IP rate limit (429 rate_limited).
 * Rule and web ACL names double as their metric names, so CloudWatch finds them under either.
 */
export class ApiFirewall extends Construct {
  readonly webAcl: CfnWebACL;
  private readonly webAclName: string;
  private readonly webhookRules: string[];

  constructor(scope: Construct, id: string, props: ApiFirewallProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.webAclName = `${stack.stackName}-api`;
    const webhookPaths = anyOf(
      [...new Set(WEBHOOK_ROUTES.map((route) => route.resource))].map(
        (path): CfnWebACL.StatementProperty => ({
          byteMatchStatement: {
            fieldToMatch: { uriPath: {} },
            // The stage name precedes the path on the execute-api host.
            positionalConstraint: 'CONTAINS',
            searchString: path,
            textTransformations: [{ priority: 0, type: 'NONE' }],
          },
        }),
      ),
    );
    const visibility = (name: string, sampled: boolean) => ({
      cloudWatchMetricsEnabled: true,
      metricName: name,
      sampledRequestsEnabled: sampled,
    });
    const rateLimited = {
      block: {
        customResponse: {
          responseCode: 429,
          customResponseBodyKey: 'rateLimited',
          responseHeaders: [{ name: 'Retry-After', value: String(RETRY_AFTER_SECONDS) }],
        },
      },
    };
    const perIp = (limit: number, scopeDownStatement: CfnWebACL.StatementProperty) => ({
      rateBasedStatement: { limit, aggregateKeyType: 'IP', scopeDownStatement },
    });

    const allowlist = this.allowedSources(props.webhookAllowedCidrs);
    const rules: Omit<CfnWebACL.RuleProperty, 'priority'>[] = [
      ...(allowlist
        ? [
            {
              name: RULES.webhookAllowlist,
              action: {
                block: { customResponse: { responseCode: 403, customResponseBodyKey: 'forbidden' } },
              },
              statement: {
                andStatement: { statements: [webhookPaths, { notStatement: { statement: allowlist } }] },
              },
              // No sampling on webhook rules: sampled requests keep full URLs, and the answer URL's query is a
              // sealed token.
              visibilityConfig: visibility(RULES.webhookAllowlist, false),
            },
          ]
        : []),
      {
        name: RULES.webhookRate,
        action: rateLimited,
        statement: perIp(props.webhookRateLimitPerFiveMinutes, webhookPaths),
        visibilityConfig: visibility(RULES.webhookRate, false),
      },
      {
        name: RULES.appRate,
        action: rateLimited,
        statement: perIp(props.rateLimitPerFiveMinutes, { notStatement: { statement: webhookPaths } }),
        // App routes carry no secrets in their URLs, so their blocked requests may be sampled.
        visibilityConfig: visibility(RULES.appRate, true),
      },
    ];
    this.webhookRules = rules.map((rule) => rule.name).filter((name) => name !== RULES.appRate);

    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      name: this.webAclName,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(this.webAclName, false),
      customResponseBodies: {
        rateLimited: {
          contentType: 'APPLICATION_JSON',
          content: errorBody(
            'rate_limited',
            'Too many requests from this address; retry after the delay in Retry-After.',
          ),
        },
        forbidden: {
          contentType: 'APPLICATION_JSON',
          content: errorBody('forbidden', 'This address may not call this route.'),
        },
      },
      rules: rules.map((rule, priority) => ({ ...rule, priority })),
    });

    new CfnWebACLAssociation(this, 'StageAssociation', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }

  /** Webhook requests the web ACL blocked (rate limit and allowlist): they never reach API Gateway's metrics. */
  metricWebhookBlocked(period: Duration): Metric[] {
    return this.webhookRules.map(
      (rule) =>
        new Metric({
          namespace: 'AWS/WAFV2',
          metricName: 'BlockedRequests',
          dimensionsMap: { WebACL: this.webAclName, Rule: rule, Region: Stack.of(this).region },
          statistic: 'Sum',
          period,
        }),
    );
  }

  /** The allowlist as one statement over an IP set per address family, or undefined when it is off. */
  private allowedSources(cidrs: readonly string[]): CfnWebACL.StatementProperty | undefined {
    if (cidrs.length === 0) return undefined;
    const families = Map.groupBy(cidrs, (cidr) => (cidr.includes(':') ? 'IPV6' : 'IPV4'));
    return anyOf(
      [...families].map(([family, addresses]) => ({
        ipSetReferenceStatement: {
          arn: new CfnIPSet(this, `WebhookSources${family}`, {
            scope: 'REGIONAL',
            ipAddressVersion: family,
            addresses,
            description: 'Plivo webhook source addresses, setting webhookAllowedCidrs',
          }).attrArn,
        },
      })),
    );
  }
}

/** WAF's OR needs two statements or more. */
const anyOf = (statements: CfnWebACL.StatementProperty[]): CfnWebACL.StatementProperty =>
  statements.length === 1 && statements[0] ? statements[0] : { orStatement: { statements } };
