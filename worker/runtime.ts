import { DefaultLogger, makeTelemetryFilterString, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../lib/logger';

const PINO_METHOD: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** A Temporal SDK logger writing through pino, from `minLevel` up. */
export function createSdkLogger(logger: Logger, minLevel: LogLevel = 'INFO'): DefaultLogger {
  const sdkLogger = logger.child({ component: 'temporal-sdk' });
  return new DefaultLogger(minLevel, ({ level, message, meta }) => {
    sdkLogger[PINO_METHOD[level]](meta ?? {}, message);
  });
}

/**
 * Routes the Temporal SDK's own logs (TypeScript side and the Rust core) into our pino logger, so a
 * worker writes one format; with `metricsBindAddress`, the SDK's Prometheus exporter listens there.
 * Must run once, before any Worker or NativeConnection exists.
 */
export function installRuntime(logger: Logger, metricsBindAddress?: string): void {
  Runtime.install({
    logger: createSdkLogger(logger),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }) },
      // Durations in seconds and counters with _total, as Prometheus names them.
      ...(metricsBindAddress
        ? {
            metrics: {
              prometheus: {
                bindAddress: metricsBindAddress,
                useSecondsForDurations: true,
                countersTotalSuffix: true,
              },
            },
          }
        : {}),
    },
  });
}
