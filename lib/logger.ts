import pino, { type Logger } from 'pino';
import type { AppConfig } from './config';

export type { Logger };

/**
 * One logger and one format for the API, the worker, the launcher and the Temporal runtime.
 * JSON by default (what log shippers read); `LOG_FORMAT=pretty` for a human at a terminal.
 */
export function createLogger(config: Pick<AppConfig, 'logLevel' | 'logFormat'>, service: string): Logger {
  return pino({
    level: config.logLevel,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['password', '*.password', 'req.headers.authorization'], censor: '[redacted]' },
    transport:
      config.logFormat === 'pretty'
        ? {
            target: 'pino-pretty',
            options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', messageKey: 'msg' },
          }
        : undefined,
  });
}
