/** What a `webhook_trigger` job may send: its parameters' schema and the HTTP client both hold to it. */
export const WEBHOOK_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type WebhookMethod = (typeof WEBHOOK_METHODS)[number];

/**
 * Headers that describe the connection rather than the message, or that the HTTP client computes: a
 * job setting them could smuggle a second request or misroute it. They are refused (when the job is
 * saved and again when it runs) rather than silently dropped, so an admin who sets `Host` to reach a
 * virtual host learns at once that it is not sent instead of wondering why the wrong site answers.
 */
export const WEBHOOK_FORBIDDEN_HEADERS = [
  'host',
  'content-length',
  'connection',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-connection',
  'expect',
] as const;

/** The largest `body`, serialised: parameters are stored with the job and travel in Temporal payloads. */
export const WEBHOOK_MAX_BODY_BYTES = 64 * 1024;

/** The whole exchange, DNS to last byte, unless the job says otherwise. */
export const WEBHOOK_DEFAULT_TIMEOUT_SECONDS = 30;
export const WEBHOOK_MAX_TIMEOUT_SECONDS = 300;
