import { eq } from 'drizzle-orm';
import { TASK_QUEUES } from '../common';
import { schema } from '../db';
import { uniqueName } from './helpers/api';
import { useDevServerApi } from './helpers/suite';
import { withWorker, withWorkerUntilDelivered } from './helpers/temporal';
import { waitFor } from './helpers/wait';

/**
 * Real time on the dev server: the timer fires at the instant, the worker can go away while a
 * document sleeps, and operators find documents by state with a visibility query.
 */
const suite = useDevServerApi();

const worker = <T>(body: () => Promise<T>) =>
  withWorker(suite.env, { taskQueue: TASK_QUEUES.documents, database: suite.api.database }, body);

test('approved with effective_at 8 s ahead, a document is EFFECTIVE within 1 s of that instant, even across a worker restart', async () => {
  const author = await suite.api.as('author');
  const reviewer = await suite.api.as('reviewer');
  const approver = await suite.api.as('approver');
  const post = (url: string, who: { authorization: string }, payload: object = {}) =>
    suite.api.app.inject({ method: 'POST', url, headers: { authorization: who.authorization }, payload });

  let documentId = '';
  let effectiveAt = 0;
  // The approval email is delivered by an activity of the document's workflow: stopped while that
  // delivery finishes, the worker would leave the workflow's next task on its sticky queue for the
  // 5 s sticky timeout. This restart comes after the delivery, and well before the instant: a worker
  // that stops while the timer's task is being handed to it leaves that task to the 10 s workflow
  // task timeout, which a busy machine (approval and delivery taking 3 s) once met.
  await withWorkerUntilDelivered(
    suite.env,
    { taskQueue: TASK_QUEUES.documents, database: suite.api.database },
    async () => {
      const created = await post('/api/v1/documents', author, {
        title: uniqueName('SOP'),
        reviewers: [reviewer.username],
        approvers: [approver.username],
      });
      documentId = created.json().id;
      const url = `/api/v1/documents/${documentId}`;
      await post(`${url}/submit`, author);
      await post(`${url}/review`, reviewer, { decision: 'approve' });
      effectiveAt = Date.now() + 8000;
      const approved = await post(`${url}/approve`, approver, { effective_at: new Date(effectiveAt).toISOString() });
      expect(approved.json().status).toBe('APPROVED_PENDING_EFFECTIVE');
    },
  );
  // The worker that armed the timer is gone; a new one picks the workflow up from its history.
  const status = async () =>
    (await suite.api.database.db.select().from(schema.documents).where(eq(schema.documents.id, documentId)))[0]?.status;
  expect(await status()).toBe('APPROVED_PENDING_EFFECTIVE');
  expect(Date.now()).toBeLessThan(effectiveAt);

  await worker(async () => {
    const seenAt = await waitFor(
      async () => ((await status()) === 'EFFECTIVE' ? Date.now() : undefined),
      effectiveAt - Date.now() + 10_000,
    );
    expect(seenAt).toBeGreaterThanOrEqual(effectiveAt);
    expect(seenAt - effectiveAt).toBeLessThan(1000);
    const [transition] = await suite.api.database.db
      .select()
      .from(schema.documentTransitions)
      .where(eq(schema.documentTransitions.documentId, documentId))
      .orderBy(schema.documentTransitions.id)
      .then((rows) => rows.slice(-1));
    expect(transition).toMatchObject({ toStatus: 'EFFECTIVE', actor: 'system_scheduler' });
    expect(transition!.occurredAt.getTime()).toBeGreaterThanOrEqual(effectiveAt);

    // Operators find it by state, as with `temporal workflow list --query "DocumentStatus='EFFECTIVE'"`.
    const found = await waitFor(async () => {
      for await (const execution of suite.env.client.workflow.list({
        query: `DocumentStatus = 'EFFECTIVE' AND WorkflowId = 'document-${documentId}'`,
      })) {
        return execution;
      }
      return undefined;
    }, 10_000);
    expect(found.searchAttributes).toMatchObject({
      DocumentStatus: ['EFFECTIVE'],
      EffectiveAt: [new Date(effectiveAt)],
    });
    expect(found.searchAttributes.DocumentNumber?.[0]).toMatch(/^DOC-/);
  });
});
