import { WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import {
  DEFAULT_LIFECYCLE_SETTINGS,
  approveUpdate,
  cancelObsolescenceUpdate,
  reassignTaskUpdate,
  documentWorkflowId,
  rejectUpdate,
  reviewUpdate,
  scheduleObsolescenceUpdate,
  setEffectiveDateUpdate,
  stateQuery,
  submitUpdate,
  type DocumentStatus,
} from '../common';
import { documentFacts, schema } from '../db';
import { documentLifecycle } from '../workflows';
import {
  documentRow,
  notificationsOf,
  seedDocument,
  seedUser,
  transitionsOf,
  type SeededDocument,
  type SeededUser,
} from './helpers/documents';
import { recordHistories } from './helpers/histories';
import { testMailSink } from './helpers/mail';
import { useTimeSkipping } from './helpers/suite';
import { deliveriesSettled, withWorkerUntilDelivered } from './helpers/temporal';

const DAY = 24 * 60 * 60 * 1000;

const suite = useTimeSkipping({ taskQueuePrefix: 'lifecycle' });

const inWorker = <T>(body: () => Promise<T>) =>
  withWorkerUntilDelivered(suite.env, { taskQueue: suite.taskQueue, database: suite.database }, body);

async function start(document: SeededDocument, extra: { continueAsNewAfterEvents?: number } = {}) {
  const row = await documentRow(suite.database, document.id);
  return suite.env.client.workflow.start(documentLifecycle, {
    taskQueue: suite.taskQueue,
    workflowId: documentWorkflowId(document.id),
    args: [{ documentId: document.id, document: documentFacts(row), ...extra }],
  });
}

type Handle = Awaited<ReturnType<typeof start>>;

/** Timers fire during `env.sleep`; the activities they start finish a moment later in real time. */
async function statusBecomes(handle: Handle, documentId: string, status: DocumentStatus): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const [state, row] = await Promise.all([handle.query(stateQuery), documentRow(suite.database, documentId)]);
    if (state.status === status && row.status === status) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`document ${documentId} did not become ${status}`);
}

async function reviewAndApprove(handle: Handle, document: SeededDocument, effectiveAt: Date) {
  await handle.executeUpdate(submitUpdate, { args: [{ actor: document.author.username }] });
  for (const reviewer of document.reviewers) {
    await handle.executeUpdate(reviewUpdate, { args: [{ actor: reviewer.username, decision: 'approve' }] });
  }
  for (const approver of document.approvers) {
    await handle.executeUpdate(approveUpdate, {
      args: [{ actor: approver.username, effectiveAt: effectiveAt.toISOString(), comment: 'fit for use' }],
    });
  }
}

async function refusal(promise: Promise<unknown>): Promise<{ type?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (error as WorkflowUpdateFailedError).cause as { type?: string; message: string };
    return { type: cause.type, message: cause.message };
  }
  throw new Error('expected the update to be refused');
}

test('a reviewed and approved document becomes EFFECTIVE at its instant months ahead, then OBSOLETE a year later', async () => {
  const document = await seedDocument(suite.database, { reviewers: 2, approvers: 1 });
  await inWorker(async () => {
    const handle = await start(document);
    const now = await suite.env.currentTimeMs();

    await handle.executeUpdate(submitUpdate, { args: [{ actor: document.author.username }] });
    let state = await handle.query(stateQuery);
    expect(state.status).toBe('UNDER_REVIEW');
    expect(state.openTasks.map((t) => t.assignee).sort()).toEqual(document.reviewers.map((r) => r.username).sort());

    await handle.executeUpdate(reviewUpdate, {
      args: [{ actor: document.reviewers[0]!.username, decision: 'approve' }],
    });
    expect((await handle.query(stateQuery)).status).toBe('UNDER_REVIEW');
    state = await handle.executeUpdate(reviewUpdate, {
      args: [{ actor: document.reviewers[1]!.username, decision: 'approve' }],
    });
    expect(state.status).toBe('PENDING_APPROVAL');
    expect(state.openTasks).toEqual([
      expect.objectContaining({ kind: 'approval', assignee: document.approvers[0]!.username }),
    ]);

    const effectiveAt = new Date(now + 120 * DAY);
    state = await handle.executeUpdate(approveUpdate, {
      args: [{ actor: document.approvers[0]!.username, effectiveAt: effectiveAt.toISOString() }],
    });
    expect(state).toMatchObject({ status: 'APPROVED_PENDING_EFFECTIVE', effectiveAt: effectiveAt.toISOString() });
    expect((await documentRow(suite.database, document.id)).effectiveAt?.toISOString()).toBe(effectiveAt.toISOString());

    // One second before the instant nothing has happened; one second after, it has.
    await suite.env.sleep(effectiveAt.getTime() - (await suite.env.currentTimeMs()) - 1000);
    expect((await handle.query(stateQuery)).status).toBe('APPROVED_PENDING_EFFECTIVE');
    expect((await documentRow(suite.database, document.id)).status).toBe('APPROVED_PENDING_EFFECTIVE');
    await suite.env.sleep(2000);
    await statusBecomes(handle, document.id, 'EFFECTIVE');

    const obsoleteAt = new Date(effectiveAt.getTime() + 365 * DAY);
    await handle.executeUpdate(scheduleObsolescenceUpdate, {
      args: [
        { actor: document.author.username, obsoleteAt: obsoleteAt.toISOString(), reason: 'replaced by process change' },
      ],
    });
    await suite.env.sleep(obsoleteAt.getTime() - (await suite.env.currentTimeMs()) - 1000);
    expect((await documentRow(suite.database, document.id)).status).toBe('SCHEDULED_FOR_OBSOLESCENCE');
    const final = await handle.result();
    expect(final.status).toBe('OBSOLETE');
    expect(await suite.env.currentTimeMs()).toBeGreaterThanOrEqual(obsoleteAt.getTime());

    const transitions = await transitionsOf(suite.database, document.id);
    expect(transitions.map((t) => [t.fromStatus, t.toStatus, t.actor])).toEqual([
      [null, 'DRAFT', document.author.username],
      ['DRAFT', 'PENDING_REVIEW', document.author.username],
      ['PENDING_REVIEW', 'UNDER_REVIEW', 'system_scheduler'],
      ['UNDER_REVIEW', 'REVIEWED', 'system_scheduler'],
      ['REVIEWED', 'PENDING_APPROVAL', 'system_scheduler'],
      ['PENDING_APPROVAL', 'APPROVED_PENDING_EFFECTIVE', document.approvers[0]!.username],
      ['APPROVED_PENDING_EFFECTIVE', 'EFFECTIVE', 'system_scheduler'],
      ['EFFECTIVE', 'SCHEDULED_FOR_OBSOLESCENCE', document.author.username],
      ['SCHEDULED_FOR_OBSOLESCENCE', 'OBSOLETE', 'system_scheduler'],
    ]);
    const emails = await notificationsOf(suite.database, document.id);
    expect(emails.filter((e) => e.kind === 'review_assigned')).toHaveLength(3);
    expect(emails.filter((e) => e.recipient === document.author.email).map((e) => e.kind)).toEqual([
      'document_approved',
      'document_effective',
      'document_obsolete',
    ]);
    expect(emails.some((e) => e.kind === 'review_reminder')).toBe(false);

    // Every outbox email reaches the mail server once, rendered from its MJML template.
    const sink = await testMailSink();
    await eventually(async () => {
      const rows = await notificationsOf(suite.database, document.id);
      expect(rows.map((row) => row.status)).toEqual(rows.map(() => 'sent'));
    });
    const received = sink.messages.filter((mail) =>
      mail.subject.includes(emails[0]!.variables.document_number as string),
    );
    expect(received).toHaveLength(emails.length);
    const toAuthor = received.filter((mail) => mail.to.includes(document.author.email)).map((mail) => mail.subject);
    expect(toAuthor).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\[EDMS\] Approved: DOC-/),
        expect.stringMatching(/^\[EDMS\] Effective: DOC-/),
        expect.stringMatching(/^\[EDMS\] Obsolete: DOC-/),
      ]),
    );
    const effectiveMail = received.find((mail) => mail.subject.startsWith('[EDMS] Effective'))!;
    expect(effectiveMail.html).toContain('Your document is now effective');
    expect(effectiveMail.text).toContain('became EFFECTIVE');
    expect(effectiveMail.messageId).toMatch(/@edms-temporal>$/);
    expect(new Set(received.map((mail) => mail.messageId)).size).toBe(received.length);

    await recordHistories(suite.env, { 'document-lifecycle-full': handle.workflowId });
  });
});

test('submit, review and approve each answer within one workflow task; the reminders of each round are armed in the document workflow and stopped when its task closes', async () => {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  await inWorker(async () => {
    const handle = await start(document);
    const effectiveAt = new Date((await suite.env.currentTimeMs()) + 30 * DAY);
    await reviewAndApprove(handle, document, effectiveAt);
    const events = (await handle.fetchHistory()).events ?? [];
    const type = (event: (typeof events)[number]) =>
      Object.keys(event)
        .find((key) => key.endsWith('EventAttributes'))!
        .replace('EventAttributes', '');
    const updates: string[][] = [];
    for (const event of events) {
      const name = type(event);
      if (name === 'workflowExecutionUpdateAccepted') updates.push([]);
      else if (updates.length > 0 && updates.at(-1)!.at(-1) !== 'workflowExecutionUpdateCompleted') {
        updates.at(-1)!.push(name);
      }
    }
    // Accepted and completed in one workflow task: no task completed, no child started, no signal
    // confirmed between the two.
    expect(updates).toHaveLength(3);
    for (const between of updates) {
      expect(between.at(-1)).toBe('workflowExecutionUpdateCompleted');
      expect(between).not.toContain('workflowTaskCompleted');
    }
    // No child workflow: each round's task had its reminder timer here, cancelled by its decision;
    // what still runs is the wait for the effective instant.
    const names = events.map(type);
    expect(names).not.toContain('startChildWorkflowExecutionInitiated');
    await eventually(async () => {
      const timers = ((await handle.fetchHistory()).events ?? []).map(type);
      const count = (name: string) => timers.filter((t) => t === name).length;
      expect(count('timerStarted')).toBeGreaterThanOrEqual(3);
      expect(count('timerStarted') - count('timerFired') - count('timerCanceled')).toBe(1);
    });
  });
});

test('each change writes its database steps in one local activity, or two when it opens a round: submit 2, a review that completes its round 2, an approval 1', async () => {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  await inWorker(async () => {
    const handle = await start(document);
    await reviewAndApprove(handle, document, new Date((await suite.env.currentTimeMs()) + 30 * DAY));
    const perUpdate: number[] = [];
    for (const event of (await handle.fetchHistory()).events ?? []) {
      if (event.workflowExecutionUpdateAcceptedEventAttributes) perUpdate.push(0);
      else if (event.markerRecordedEventAttributes?.markerName === 'core_local_activity' && perUpdate.length > 0) {
        perUpdate[perUpdate.length - 1]!++;
      }
    }
    // Submit: its transition with the round's opening (the round's tasks come from the database),
    // then UNDER_REVIEW. The review: its decision, REVIEWED and the approval round, then
    // PENDING_APPROVAL. The approval: its decision and APPROVED_PENDING_EFFECTIVE.
    expect(perUpdate).toEqual([2, 2, 1]);
    expect((await transitionsOf(suite.database, document.id)).map((t) => t.toStatus)).toEqual([
      'DRAFT',
      'PENDING_REVIEW',
      'UNDER_REVIEW',
      'REVIEWED',
      'PENDING_APPROVAL',
      'APPROVED_PENDING_EFFECTIVE',
    ]);
  });
});

test('a change the database refuses is written not at all: its task stays open, in the database and in the workflow, and its reminders go on', async () => {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  await inWorker(async () => {
    const handle = await start(document);
    await handle.executeUpdate(submitUpdate, { args: [{ actor: document.author.username }] });
    await handle.executeUpdate(reviewUpdate, {
      args: [{ actor: document.reviewers[0]!.username, decision: 'approve' }],
    });
    // A repair moved the document back to DRAFT by hand and told no workflow.
    await suite.database.db
      .update(schema.documents)
      .set({ status: 'DRAFT' })
      .where(eq(schema.documents.id, document.id));
    const before = {
      transitions: await transitionsOf(suite.database, document.id),
      tasks: await suite.database.db
        .select()
        .from(schema.reviewTasks)
        .where(eq(schema.reviewTasks.documentId, document.id))
        .orderBy(schema.reviewTasks.id),
      state: await handle.query(stateQuery),
    };
    const approval = handle.executeUpdate(approveUpdate, {
      args: [
        {
          actor: document.approvers[0]!.username,
          effectiveAt: new Date((await suite.env.currentTimeMs()) + 30 * DAY).toISOString(),
        },
      ],
    });
    expect(await refusal(approval)).toMatchObject({ type: 'DocumentStateConflict' });
    // The task's decision was written with the transition, so it is undone with it.
    expect(
      await suite.database.db
        .select()
        .from(schema.reviewTasks)
        .where(eq(schema.reviewTasks.documentId, document.id))
        .orderBy(schema.reviewTasks.id),
    ).toEqual(before.tasks);
    expect(before.tasks.find((t) => t.kind === 'approval')?.status).toBe('pending');
    expect(await transitionsOf(suite.database, document.id)).toEqual(before.transitions);
    expect(await handle.query(stateQuery)).toEqual(before.state);
    // The approval task's reminders go on: at its due instant its approver is reminded.
    await suite.env.sleep(DEFAULT_LIFECYCLE_SETTINGS.reviewDueDays * DAY + 60_000);
    await eventually(async () =>
      expect(
        (await notificationsOf(suite.database, document.id)).filter(
          (e) => e.kind === 'review_reminder' && e.recipient === document.approvers[0]!.email,
        ),
      ).toHaveLength(1),
    );
  });
});

test('a changed effective date re-arms the timer; a past instant makes the document effective at once', async () => {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  await inWorker(async () => {
    const handle = await start(document);
    const now = await suite.env.currentTimeMs();
    await reviewAndApprove(handle, document, new Date(now + 30 * DAY));
    const later = new Date(now + 60 * DAY);
    await handle.executeUpdate(setEffectiveDateUpdate, {
      args: [{ actor: document.author.username, effectiveAt: later.toISOString() }],
    });
    await suite.env.sleep(31 * DAY);
    expect((await handle.query(stateQuery)).status).toBe('APPROVED_PENDING_EFFECTIVE');
    const past = new Date((await suite.env.currentTimeMs()) - DAY);
    await handle.executeUpdate(setEffectiveDateUpdate, {
      args: [{ actor: document.author.username, effectiveAt: past.toISOString() }],
    });
    await statusBecomes(handle, document.id, 'EFFECTIVE');
  });
});

test('rejection in review or approval returns the document to DRAFT with the comment; resubmission opens a new round', async () => {
  const document = await seedDocument(suite.database, { reviewers: 2, approvers: 1 });
  await inWorker(async () => {
    const handle = await start(document);
    await handle.executeUpdate(submitUpdate, { args: [{ actor: document.author.username }] });
    const state = await handle.executeUpdate(reviewUpdate, {
      args: [{ actor: document.reviewers[0]!.username, decision: 'reject', comment: 'section 4 contradicts SOP-12' }],
    });
    expect(state).toMatchObject({ status: 'DRAFT', openTasks: [] });
    const rejection = (await transitionsOf(suite.database, document.id)).at(-1);
    expect(rejection).toMatchObject({
      fromStatus: 'UNDER_REVIEW',
      toStatus: 'DRAFT',
      comment: 'section 4 contradicts SOP-12',
    });

    const again = await handle.executeUpdate(submitUpdate, { args: [{ actor: document.author.username }] });
    expect(again).toMatchObject({ status: 'UNDER_REVIEW', round: 2 });
    for (const reviewer of document.reviewers) {
      await handle.executeUpdate(reviewUpdate, { args: [{ actor: reviewer.username, decision: 'approve' }] });
    }
    const rejected = await handle.executeUpdate(rejectUpdate, {
      args: [{ actor: document.approvers[0]!.username, comment: 'not yet' }],
    });
    expect(rejected.status).toBe('DRAFT');
    expect((await documentRow(suite.database, document.id)).status).toBe('DRAFT');
  });
});

test('a transition not allowed from the current state is refused with that state, and nothing changes', async () => {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  await inWorker(async () => {
    const handle = await start(document);
    const before = await transitionsOf(suite.database, document.id);
    const refused = await refusal(
      handle.executeUpdate(approveUpdate, {
        args: [{ actor: document.approvers[0]!.username, effectiveAt: new Date().toISOString() }],
      }),
    );
    expect(refused.type).toBe('InvalidTransition');
    expect(refused.message).toContain('it is DRAFT');
    await handle.executeUpdate(submitUpdate, { args: [{ actor: document.author.username }] });
    const stranger = await seedUser(suite.database, 'reviewer');
    const notAssigned = await refusal(
      handle.executeUpdate(reviewUpdate, { args: [{ actor: stranger.username, decision: 'approve' }] }),
    );
    expect(notAssigned.type).toBe('NotAssigned');
    expect((await transitionsOf(suite.database, document.id)).length).toBe(before.length + 2);
  });
});

test('cancelling a scheduled obsolescence returns to EFFECTIVE and the old instant passes without effect', async () => {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  await inWorker(async () => {
    const handle = await start(document);
    await reviewAndApprove(handle, document, new Date((await suite.env.currentTimeMs()) - 1000));
    await statusBecomes(handle, document.id, 'EFFECTIVE');
    const obsoleteAt = new Date((await suite.env.currentTimeMs()) + 10 * DAY);
    await handle.executeUpdate(scheduleObsolescenceUpdate, {
      args: [{ actor: document.author.username, obsoleteAt: obsoleteAt.toISOString(), reason: 'retire' }],
    });
    const cancelled = await handle.executeUpdate(cancelObsolescenceUpdate, {
      args: [{ actor: document.author.username }],
    });
    expect(cancelled).toMatchObject({ status: 'EFFECTIVE', obsoleteAt: null });
    await suite.env.sleep(11 * DAY);
    expect((await handle.query(stateQuery)).status).toBe('EFFECTIVE');
    expect((await documentRow(suite.database, document.id)).obsoleteAt).toBeNull();
    const early = await refusal(
      handle.executeUpdate(scheduleObsolescenceUpdate, {
        args: [{ actor: document.author.username, obsoleteAt: new Date(0).toISOString(), reason: 'x' }],
      }),
    );
    expect(early).toMatchObject({
      type: 'InvalidRequest',
      message: expect.stringContaining('after the effective instant'),
    });
  });
});

test('an overdue review gets a reminder at its due instant, daily reminders, and one escalation to the manager after 7 days', async () => {
  const manager = await seedUser(suite.database, 'approver');
  const document = await seedDocument(suite.database, {
    reviewers: 1,
    approvers: 1,
    reviewerManager: manager.username,
  });
  const reviewer = document.reviewers[0]!;
  await inWorker(async () => {
    const handle = await start(document);
    await handle.executeUpdate(submitUpdate, { args: [{ actor: document.author.username }] });
    const due = Date.parse((await handle.query(stateQuery)).openTasks[0]!.dueAt);
    const reminders = async () =>
      (await notificationsOf(suite.database, document.id)).filter((e) => e.kind === 'review_reminder');
    const escalations = async () =>
      (await notificationsOf(suite.database, document.id)).filter((e) => e.kind === 'review_escalated');

    await suite.env.sleep(due - (await suite.env.currentTimeMs()) - 60_000);
    expect(await reminders()).toHaveLength(0);
    await suite.env.sleep(120_000);
    await eventually(async () => expect(await reminders()).toHaveLength(1));
    expect((await reminders())[0]).toMatchObject({
      recipient: reviewer.email,
      variables: expect.objectContaining({ sent_for: new Date(due).toISOString() }),
    });

    await suite.env.sleep(3 * DAY);
    await eventually(async () => expect(await reminders()).toHaveLength(4));
    expect(await escalations()).toHaveLength(0);

    await suite.env.sleep(4 * DAY);
    await eventually(async () => expect(await escalations()).toHaveLength(1));
    expect((await escalations())[0]).toMatchObject({ recipient: manager.email });

    // They reached the mail server: by the escalation 7 days after the due instant the reviewer has
    // had 8 reminders (at the due instant, then daily), the manager one escalation.
    await deliveriesSettled(suite.env);
    const { documentNumber } = await documentRow(suite.database, document.id);
    const received = (await testMailSink()).messages.filter((mail) => mail.subject.includes(`${documentNumber} "`));
    const reminderMails = received.filter((mail) => mail.subject.startsWith('[EDMS] Reminder'));
    expect(await reminders()).toHaveLength(8);
    expect(reminderMails.map((mail) => mail.to)).toEqual(Array.from({ length: 8 }, () => [reviewer.email]));
    const escalationMails = received.filter((mail) => mail.subject.startsWith('[EDMS] Escalation'));
    expect(escalationMails.map((mail) => mail.to)).toEqual([[manager.email]]);
    expect(escalationMails[0]!.text).toContain(`assigned to ${reviewer.username}`);

    // Deciding stops this task's timers; the approval round that follows has timers of its own
    // (due 5 days after it opened: after 6 days its approver has had 2 reminders).
    await handle.executeUpdate(reviewUpdate, { args: [{ actor: reviewer.username, decision: 'approve' }] });
    const toReviewer = async () => (await reminders()).filter((e) => e.recipient === reviewer.email);
    const count = (await toReviewer()).length;
    await suite.env.sleep(6 * DAY);
    expect(await toReviewer()).toHaveLength(count);
    expect(await escalations()).toHaveLength(1);
    await eventually(async () =>
      expect((await reminders()).filter((e) => e.recipient === document.approvers[0]!.email)).toHaveLength(2),
    );
    await recordHistories(suite.env, { 'document-lifecycle-overdue': handle.workflowId });
  });
});

test('reassigning an overdue task re-arms its timers: the new assignee is reminded from a new due instant', async () => {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  const original = document.reviewers[0]!;
  const substitute = await seedUser(suite.database, 'reviewer');
  await inWorker(async () => {
    const handle = await start(document);
    await handle.executeUpdate(submitUpdate, { args: [{ actor: document.author.username }] });
    const task = (await handle.query(stateQuery)).openTasks[0]!;
    const remindersTo = async (user: { email: string }) =>
      (await notificationsOf(suite.database, document.id)).filter(
        (e) => e.kind === 'review_reminder' && e.recipient === user.email,
      );

    await suite.env.sleep(Date.parse(task.dueAt) - (await suite.env.currentTimeMs()) + 1000);
    await eventually(async () => expect(await remindersTo(original)).toHaveLength(1));

    const state = await handle.executeUpdate(reassignTaskUpdate, {
      args: [{ actor: 'admin', taskId: task.taskId, assignee: substitute.username }],
    });
    const newDue = Date.parse(state.openTasks[0]!.dueAt);
    expect(state.openTasks[0]).toMatchObject({ taskId: task.taskId, assignee: substitute.username });
    expect(newDue - (await suite.env.currentTimeMs())).toBeGreaterThan(4 * DAY);

    // The old assignee's daily reminders stop; the new one is not nagged before the new due instant.
    await suite.env.sleep(newDue - (await suite.env.currentTimeMs()) - 60_000);
    expect(await remindersTo(original)).toHaveLength(1);
    expect(await remindersTo(substitute)).toHaveLength(0);
    await suite.env.sleep(120_000);
    await eventually(async () => expect(await remindersTo(substitute)).toHaveLength(1));
    expect((await remindersTo(substitute))[0]!.variables).toMatchObject({ sent_for: new Date(newDue).toISOString() });
    const assigned = (await notificationsOf(suite.database, document.id)).filter((e) => e.kind === 'review_assigned');
    expect(assigned.map((e) => e.recipient).sort()).toEqual([original.email, substitute.email].sort());
    expect(await escalationsOf(document.id)).toHaveLength(0);
  });
});

/** A version already EFFECTIVE, in its running workflow. */
async function effectiveDocument() {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  const handle = await start(document);
  await reviewAndApprove(handle, document, new Date((await suite.env.currentTimeMs()) - 1000));
  await statusBecomes(handle, document.id, 'EFFECTIVE');
  return { document, handle };
}

/** A new version of `previous`, approved to become EFFECTIVE 7 days from now. */
async function approvedSuccessor(previous: SeededDocument) {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1, supersedes: previous.id });
  const handle = await start(document);
  await reviewAndApprove(handle, document, new Date((await suite.env.currentTimeMs()) + 7 * DAY));
  return { document, handle };
}

test('when a new version becomes EFFECTIVE the version it supersedes becomes OBSOLETE', async () => {
  await inWorker(async () => {
    const { document: first, handle: firstHandle } = await effectiveDocument();

    const { document: second, handle: secondHandle } = await approvedSuccessor(first);
    await suite.env.sleep(7 * DAY + 1000);
    await statusBecomes(secondHandle, second.id, 'EFFECTIVE');
    await statusBecomes(firstHandle, first.id, 'OBSOLETE');
    await recordHistories(suite.env, { 'document-lifecycle-superseded': firstHandle.workflowId });
    expect(await documentRow(suite.database, first.id)).toMatchObject({ obsolescenceReason: 'superseded' });
    const emails = await notificationsOf(suite.database, first.id);
    expect(emails.map((e) => e.kind)).toContain('document_superseded');
  });
});

test('a version scheduled for obsolescence, superseded: its workflow ends only once OBSOLETE is written, with its email sent', async () => {
  await inWorker(async () => {
    const { document: first, handle: firstHandle } = await effectiveDocument();
    await firstHandle.executeUpdate(scheduleObsolescenceUpdate, {
      args: [
        {
          actor: first.author.username,
          obsoleteAt: new Date((await suite.env.currentTimeMs()) + 300 * DAY).toISOString(),
          reason: 'replaced',
        },
      ],
    });

    await approvedSuccessor(first);
    await suite.env.sleep(7 * DAY + 1000);
    await expect(firstHandle.result()).resolves.toMatchObject({ status: 'OBSOLETE' });
    // Ended after the write, not before it: the database says OBSOLETE and the email went out.
    expect(await documentRow(suite.database, first.id)).toMatchObject({
      status: 'OBSOLETE',
      obsolescenceReason: 'superseded',
    });
    await deliveriesSettled(suite.env);
    const superseded = (await notificationsOf(suite.database, first.id)).filter(
      (e) => e.kind === 'document_superseded',
    );
    expect(superseded).toMatchObject([{ status: 'sent' }]);
  });
});

test('a new version whose EFFECTIVE write is refused does not make the version it supersedes OBSOLETE', async () => {
  await inWorker(async () => {
    const { document: first, handle: firstHandle } = await effectiveDocument();

    const { document: second, handle: secondHandle } = await approvedSuccessor(first);
    // A repair sent the new version back to DRAFT by hand and told no workflow.
    await suite.database.db.update(schema.documents).set({ status: 'DRAFT' }).where(eq(schema.documents.id, second.id));
    await suite.env.sleep(7 * DAY + 1000);
    // The refusal reloads the new version; the one it would have superseded stays in force.
    await statusBecomes(secondHandle, second.id, 'DRAFT');
    expect((await firstHandle.query(stateQuery)).status).toBe('EFFECTIVE');
    expect(await documentRow(suite.database, first.id)).toMatchObject({ status: 'EFFECTIVE' });
  });
});

test("a task closed behind the workflow's back stops being reminded", async () => {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  await inWorker(async () => {
    const handle = await start(document);
    await handle.executeUpdate(submitUpdate, { args: [{ actor: document.author.username }] });
    const [task] = (await handle.query(stateQuery)).openTasks;
    // A cleanup cancelled the task in the database.
    await suite.database.db
      .update(schema.reviewTasks)
      .set({ status: 'cancelled' })
      .where(eq(schema.reviewTasks.id, task!.taskId));
    await suite.env.sleep(DEFAULT_LIFECYCLE_SETTINGS.reviewDueDays * DAY + 60_000);
    // The first reminder found the task closed: no email, and no timer left for it.
    await eventually(async () => {
      const events = ((await handle.fetchHistory()).events ?? []).map((e) =>
        Object.keys(e).find((key) => key.endsWith('EventAttributes')),
      );
      const count = (name: string) => events.filter((t) => t === name).length;
      expect(count('timerFiredEventAttributes')).toBeGreaterThanOrEqual(1);
      expect(count('timerStartedEventAttributes')).toBe(
        count('timerFiredEventAttributes') + count('timerCanceledEventAttributes'),
      );
    });
    expect((await notificationsOf(suite.database, document.id)).filter((e) => e.kind === 'review_reminder')).toEqual(
      [],
    );
  });
});

test('continue-as-new keeps the state: a long-lived document still becomes effective on time', async () => {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  await inWorker(async () => {
    const handle = await start(document, { continueAsNewAfterEvents: 20 });
    const effectiveAt = new Date((await suite.env.currentTimeMs()) + 10 * DAY);
    await reviewAndApprove(handle, document, effectiveAt);
    await eventually(async () => expect((await handle.describe()).runId).not.toBe(handle.firstExecutionRunId));
    const carried = await suite.env.client.workflow.getHandle(documentWorkflowId(document.id)).query(stateQuery);
    expect(carried).toMatchObject({
      status: 'APPROVED_PENDING_EFFECTIVE',
      effectiveAt: effectiveAt.toISOString(),
      round: 1,
    });
    await suite.env.sleep(10 * DAY + 1000);
    await statusBecomes(
      suite.env.client.workflow.getHandle(documentWorkflowId(document.id)) as Handle,
      document.id,
      'EFFECTIVE',
    );
  });
});

test('of two decisions sent together, the one that waited for its turn is checked again: a rejection closed its round', async () => {
  const document = await seedDocument(suite.database, { reviewers: 2, approvers: 1 });
  await inWorker(async () => {
    const handle = await start(document);
    await handle.executeUpdate(submitUpdate, { args: [{ actor: document.author.username }] });
    const [first, second] = document.reviewers as [SeededUser, SeededUser];
    const rejection = await handle.startUpdate(reviewUpdate, {
      args: [{ actor: first.username, decision: 'reject', comment: 'wrong template' }],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    // Validated while the rejection is still closing the round (or refused by its validator if it came after).
    const late = await refusal(
      handle.executeUpdate(reviewUpdate, { args: [{ actor: second.username, decision: 'approve' }] }),
    );
    expect(late).toMatchObject({ type: 'InvalidTransition', message: expect.stringContaining('it is DRAFT') });
    expect(await rejection.result()).toMatchObject({ status: 'DRAFT', openTasks: [] });
    const decided = await suite.database.db
      .select()
      .from(schema.reviewTasks)
      .where(eq(schema.reviewTasks.documentId, document.id));
    expect(decided.map((task) => task.status).sort()).toEqual(['cancelled', 'rejected']);
    expect((await transitionsOf(suite.database, document.id)).at(-1)).toMatchObject({ toStatus: 'DRAFT' });
  });
});

test('a timed transition the database refuses (the document changed outside its workflow) reloads the document', async () => {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  await inWorker(async () => {
    const handle = await start(document);
    await reviewAndApprove(handle, document, new Date((await suite.env.currentTimeMs()) + 10 * DAY));
    // A repair made it EFFECTIVE by hand and told no workflow.
    await suite.database.db
      .update(schema.documents)
      .set({ status: 'EFFECTIVE' })
      .where(eq(schema.documents.id, document.id));
    const before = await transitionsOf(suite.database, document.id);
    await suite.env.sleep(10 * DAY + 1000);
    await statusBecomes(handle, document.id, 'EFFECTIVE');
    expect(await transitionsOf(suite.database, document.id)).toHaveLength(before.length);
  });
});

async function escalationsOf(documentId: string) {
  return (await notificationsOf(suite.database, documentId)).filter((e) => e.kind === 'review_escalated');
}

async function eventually(assertion: () => Promise<void>): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      return await assertion();
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw lastError;
}
