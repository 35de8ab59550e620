/**
 * List prices in US dollars, us-east-1, as /work/shared/FACTS.md records them: "late 2025" list prices,
 * written down on 2026-11-23. Re-check them before quoting a cost; nothing here is fetched.
 */
export const PRICES = {
  asOf: 'AWS and Plivo list prices of late 2025 (us-east-1), recorded 2026-11-23',
  apiGatewayRestPerMillionRequests: 3.5,
  apiGatewayHttpPerMillionRequests: 1,
  lambdaArmPerGbSecond: 0.000_013_333_4,
  lambdaPerMillionRequests: 0.2,
  dynamoDbPerMillionWriteUnits: 0.625,
  dynamoDbPerMillionReadUnits: 0.125,
  secretsManagerPerSecretMonth: 0.4,
  secretsManagerPer10kCalls: 0.05,
  /** FACTS.md's second round: ingestion per GB, and X-Ray per trace recorded. */
  cloudWatchLogsPerGbIngested: 0.5,
  xRayPerMillionTraces: 5,
  /** FACTS.md's second round: EventBridge custom events, SQS standard requests, WAF requests inspected. */
  eventBridgePerMillionEvents: 1,
  sqsPerMillionRequests: 0.4,
  wafPerMillionRequests: 0.6,
  /** Outbound voice to US numbers, billed per started minute. */
  plivoUsVoicePerMinute: { low: 0.0075, high: 0.0115 },
  /**
   * Outbound SMS to US numbers from a long code, per segment, before the carriers' surcharges. Not in
   * FACTS.md: Plivo's page could not be read from here, so this is its figure as two third-party pages
   * quote it (below).
   */
  plivoUsSmsPerSegment: 0.0077,
  plivoUsSmsSource:
    'Plivo US SMS, long code: $0.0077 per outbound segment plus carrier surcharges (plivo.com/sms/pricing/us, ' +
    "as quoted by API Evangelist's Plivo plans file, reconciled 2026-05-08, and a market scan read 2026-09-13; " +
    'looked up 2026-11-29)',
  /**
   * Meta's WhatsApp rate for one delivered AUTHENTICATION template message to an Indian number (+91), for a
   * business based in India (the authentication-international rate is $0.028). Plivo's own WhatsApp pricing
   * page could not be read from here: this is Meta's rate, before any fee of Plivo's. Meta billed it per
   * conversation in 2024 and has billed per delivered template message since 1 July 2025.
   */
  metaWhatsAppAuthenticationIndia: 0.0014,
  metaWhatsAppAuthenticationSource:
    "Meta's WhatsApp rate card, authentication, India: $0.0014 (authentication-international $0.028), as of " +
    "1 July 2024, quoted by Haptik's 'WhatsApp Pricing 2024' post and Alibaba Cloud's Chat App Message " +
    "announcement of that change; Plivo's WhatsApp pricing page could not be read from here, so no Plivo " +
    'fee is included; looked up 2026-12-06',
  /** Hosted verify APIs: per successful verification, before channel fees. */
  hostedVerifyPerVerification: 0.05,
} as const;
