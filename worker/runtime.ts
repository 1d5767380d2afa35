import { DefaultLogger, makeTelemetryFilterString, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../lib/logger';

const PINO_METHOD: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

const DOCUMENT_WORKFLOW_ID = /^document-([0-9a-f-]{36})$/;

/**
 * A Temporal SDK logger writing through pino, from `minLevel` up. The SDK's lines carry the
 * workflow id and run id of the workflow or activity they come from; a document workflow's also get
 * the document id, so a document's story reads from one filter.
 */
export function createSdkLogger(logger: Logger, minLevel: LogLevel = 'INFO'): DefaultLogger {
  const sdkLogger = logger.child({ component: 'temporal-sdk' });
  return new DefaultLogger(minLevel, ({ level, message, meta }) => {
    const documentId =
      typeof meta?.workflowId === 'string' ? DOCUMENT_WORKFLOW_ID.exec(meta.workflowId)?.[1] : undefined;
    sdkLogger[PINO_METHOD[level]](documentId ? { ...meta, documentId } : (meta ?? {}), message);
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
