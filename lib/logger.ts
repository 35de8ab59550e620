import { Logger } from '@aws-lambda-powertools/logger';

export type { Logger };

/**
 * Structured JSON logs. What may be logged is decided where a line is written: masked numbers, ids and
 * outcomes; never a code, a code hash, a sealed token, a key or a full phone number.
 */
export const createLogger = (
  options: { serviceName?: string; logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT' } = {},
) =>
  new Logger({
    serviceName: options.serviceName ?? 'voice-otp',
    ...(options.logLevel && { logLevel: options.logLevel }),
  });
