import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { WebhookTriggerParameters } from '../../jobs/parameter-schemas';
import { checkOutboundRequest, OutboundRequestRefused, type OutboundRequest } from '../../jobs/outbound-checks';
import { sendOutboundRequest } from '../../jobs/outbound-http';
import { validatedParams, type JobRequest, type JobTemplateDeps, type JobTemplateResult } from './types';
import { FailureType } from '../../common';

const BODY_EXCERPT_CHARS = 500;

/** The policy's refusal, as a failure Temporal does not retry: the same request would be refused again. */
function refused(error: OutboundRequestRefused): ApplicationFailure {
  return ApplicationFailure.nonRetryable(error.message, FailureType.OutboundRequestRefused, {
    code: error.code,
    host: error.host,
  });
}

export function createWebhookTrigger({ settings }: JobTemplateDeps) {
  return async function runWebhookTrigger(request: JobRequest<WebhookTriggerParameters>): Promise<JobTemplateResult> {
    const params = validatedParams('webhook_trigger', request.params);
    const outbound: OutboundRequest = {
      method: params.method ?? 'POST',
      url: params.url,
      headers: params.headers,
      body: params.body,
      timeout_seconds: params.timeout_seconds,
    };
    const target = `${outbound.method} ${new URL(params.url).origin}${new URL(params.url).pathname}`;

    if (request.dryRun) {
      try {
        checkOutboundRequest(outbound, settings.outboundPolicy);
      } catch (error) {
        if (error instanceof OutboundRequestRefused) throw refused(error);
        throw error;
      }
      return {
        summary: `Would send ${target} (allowed by the outbound policy)`,
        result: { method: outbound.method, url: params.url, allowed: true },
        logs: [`dry run: ${target} passes the outbound policy; DNS is checked only when sending`],
      };
    }

    let response;
    try {
      response = await sendOutboundRequest(outbound, settings.outboundPolicy, {
        signal: Context.current().cancellationSignal,
      });
    } catch (error) {
      if (error instanceof OutboundRequestRefused) throw refused(error);
      throw error;
    }
    const bodyExcerpt = response.body.slice(0, BODY_EXCERPT_CHARS);
    const expected = params.expected_status;
    const succeeded = expected === undefined ? response.ok : response.status === expected;
    if (!succeeded) {
      // A 5xx or an unexpected answer may be the receiver's passing trouble: Temporal retries it.
      throw ApplicationFailure.retryable(
        `${target} answered ${response.status}, expected ${expected ?? '2xx'}: ${bodyExcerpt.slice(0, 200)}`,
        FailureType.WebhookUnexpectedStatus,
        { status: response.status, body_excerpt: bodyExcerpt },
      );
    }
    return {
      summary: `${target} answered ${response.status} in ${response.duration_ms} ms`,
      result: {
        status: response.status,
        duration_ms: response.duration_ms,
        resolved_address: response.resolved_address,
        body_excerpt: bodyExcerpt,
      },
      logs: [`${target} → ${response.status} from ${response.resolved_address} in ${response.duration_ms} ms`],
    };
  };
}
