import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import type { Activities } from '../../activities';
import { connectWorkerConnection } from '../../lib/temporal';
import { createWorker } from '../../worker/workers';
import { temporalSettingsOf, type BenchContext } from '../scenario';
import { createBareActivities, createMarksTable, dropMarksTable } from './bare-activities';

/**
 * Runs `task` while a Worker of this process, with the documents queue's settings, runs the bare
 * workflows (bare-workflow.ts) and activities on a task queue of their own, whose name `task` gets.
 * The marks table is created empty before and dropped after; the Worker stops when `task` settles.
 */
export async function withBareWorker<T>(context: BenchContext, task: (taskQueue: string) => Promise<T>): Promise<T> {
  const { sql } = context.database;
  const settings = temporalSettingsOf(context.system);
  const connection = await connectWorkerConnection(settings);
  const taskQueue = `bench-bare-${randomUUID()}`;
  await createMarksTable(sql);
  try {
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: path.join(__dirname, 'bare-workflow.ts'),
      logger: new DefaultLogger('WARN'),
    });
    const worker = await createWorker(
      {
        connection,
        namespace: settings.namespace,
        workflowBundle,
        // createWorker is typed for the system's activities; the SDK's Worker takes any.
        activities: createBareActivities(sql) as unknown as Activities,
        shutdownGraceSeconds: 5,
      },
      taskQueue,
      'documents',
    );
    return await worker.runUntil(() => task(taskQueue));
  } finally {
    await connection.close();
    await dropMarksTable(sql);
  }
}
