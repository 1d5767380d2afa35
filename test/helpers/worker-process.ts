import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ManagedProcess, tsxNodeArgs } from '../../launcher/managed-process';
import { PROJECT_ROOT } from '../../lib/paths';
import { uniqueName, type TestApi } from './api';
import { testMailSink } from './mail';
import { testDatabaseUrl } from './resources';

/**
 * The real `npm run worker` process on the documents queue against a test dev server (namespace
 * `edms`), the test database and the test mail sink; resolves once it polls.
 */
export async function startWorkerProcess(
  env: TestWorkflowEnvironment,
  dataDir: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<ManagedProcess> {
  const sink = await testMailSink();
  const worker = new ManagedProcess(
    'worker',
    process.execPath,
    tsxNodeArgs(path.join(PROJECT_ROOT, 'worker', 'main.ts')),
    {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        DATABASE_URL: testDatabaseUrl(),
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: 'edms',
        SMTP_URL: sink.url,
        EDMS_DATA_DIR: dataDir,
        WORKER_TASK_QUEUES: 'documents',
        WORKER_SHUTDOWN_GRACE_SECONDS: '1',
        LOG_FORMAT: 'json',
        ...extraEnv,
      },
    },
  );
  await worker.waitForLine(/"msg":"worker polling"/, 120_000);
  return worker;
}

/** `count` documents taken through the API to APPROVED_PENDING_EFFECTIVE, due at `effectiveAt` (epoch ms). */
export async function approveDocuments(api: TestApi, count: number, effectiveAt: number): Promise<string[]> {
  const author = await api.as('author');
  const reviewer = await api.as('reviewer');
  const approver = await api.as('approver');
  const post = (url: string, who: { authorization: string }, payload: object = {}) =>
    api.app.inject({ method: 'POST', url, headers: { authorization: who.authorization }, payload });
  const ids: string[] = [];
  for (let n = 0; n < count; n++) {
    const created = await post('/api/v1/documents', author, {
      title: uniqueName('SOP'),
      reviewers: [reviewer.username],
      approvers: [approver.username],
    });
    const id = created.json<{ id: string }>().id;
    await post(`/api/v1/documents/${id}/submit`, author);
    await post(`/api/v1/documents/${id}/review`, reviewer, { decision: 'approve' });
    const approved = await post(`/api/v1/documents/${id}/approve`, approver, {
      effective_at: new Date(effectiveAt).toISOString(),
    });
    if (approved.json<{ status: string }>().status !== 'APPROVED_PENDING_EFFECTIVE') {
      throw new Error(`approving ${id} answered ${approved.statusCode} ${approved.body}`);
    }
    ids.push(id);
  }
  return ids;
}
