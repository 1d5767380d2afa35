/**
 * The documents in flight, driven through the real API as people would: an admin creates the users,
 * the author creates and submits each document, two reviewers approve it, the approver approves it
 * with an effective instant, and once it is EFFECTIVE the author schedules its obsolescence (the
 * workflow accepts that only from EFFECTIVE on). Every action goes through `performOnce`, so a
 * retry after a crash never repeats one that took effect.
 */
import { randomBytes } from 'node:crypto';
import { performOnce, retryTransient, type ApiClient, type ApiResponse } from './api-client';
import type { ChaosPlan } from './plan';

/** Everything the crash test knows about one of its documents. */
export interface TrackedDocument {
  index: number;
  number: string;
  id: string;
  /** The effective instant requested by the approval (ISO), once sent. */
  effectiveAt?: string;
  /** The obsolescence instant requested (ISO), once sent. */
  obsoleteAt?: string;
}

interface DocumentView {
  id: string;
  document_number: string;
  status: string;
  effective_at: string | null;
  obsolete_at: string | null;
  open_tasks: { kind: string; assignee: string }[];
}

/** The people of the workload, with their bearer tokens. */
export interface Cast {
  author: string;
  reviewers: string[];
  approver: string;
  tokens: Map<string, string>;
}

/** A 409 from a workflow still APPROVED_PENDING_EFFECTIVE for a document the database shows EFFECTIVE. */
function workflowBehind(response: ApiResponse): string | undefined {
  const details = (response.body as { error?: { details?: { current_status?: string } } }).error?.details;
  return response.status === 409 && details?.current_status === 'APPROVED_PENDING_EFFECTIVE'
    ? '409 workflow behind the database'
    : undefined;
}

const AFTER_APPROVAL = ['APPROVED_PENDING_EFFECTIVE', 'EFFECTIVE', 'SCHEDULED_FOR_OBSOLESCENCE', 'OBSOLETE'];

/** Runs `task` over `items` with at most `limit` in flight; rejects with the first failure. */
export async function inPool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

export class Workload {
  readonly documents: TrackedDocument[] = [];

  constructor(
    private readonly api: ApiClient,
    private readonly plan: ChaosPlan,
    readonly cast: Cast,
  ) {}

  /** Creates the author, two reviewers and an approver (as the admin) and logs each in. */
  static async cast(api: ApiClient, adminToken: string, plan: ChaosPlan): Promise<Workload> {
    const cast: Cast = {
      author: 'chaos.author',
      reviewers: ['chaos.reviewer1', 'chaos.reviewer2'],
      approver: 'chaos.approver',
      tokens: new Map(),
    };
    const roles: [string, string][] = [
      [cast.author, 'author'],
      ...cast.reviewers.map((name): [string, string] => [name, 'reviewer']),
      [cast.approver, 'approver'],
    ];
    for (const [username, role] of roles) {
      const password = randomBytes(12).toString('hex');
      const created = await api.retrying('POST', '/api/v1/users', adminToken, {
        username,
        password,
        role,
        email: `${username}@chaos.example`,
      });
      if (created.status !== 201)
        throw new Error(`creating ${username}: ${created.status} ${JSON.stringify(created.body)}`);
      const login = await api.retrying('POST', '/api/v1/auth/login', undefined, { username, password });
      if (login.status !== 200) throw new Error(`login of ${username}: ${login.status}`);
      cast.tokens.set(username, (login.body as { access_token: string }).access_token);
    }
    return new Workload(api, plan, cast);
  }

  private token(username: string): string {
    return this.cast.tokens.get(username)!;
  }

  private async read(id: string): Promise<DocumentView> {
    const response = await this.api.send('GET', `/api/v1/documents/${id}`, this.token(this.cast.author));
    if (response.status !== 200) throw new Error(`GET document ${id}: ${response.status}`);
    return response.body as DocumentView;
  }

  /** One lifecycle action by `actor`, done once: `settled` tells from the document whether it took effect. */
  private act(
    document: TrackedDocument,
    actor: string,
    action: string,
    body: unknown,
    settled: (view: DocumentView) => boolean,
    settleMs = 0,
    notYet?: (response: ApiResponse) => string | undefined,
  ): Promise<DocumentView> {
    return performOnce(
      {
        label: `${action} ${document.number} by ${actor}`,
        send: () => this.api.send('POST', `/api/v1/documents/${document.id}/${action}`, this.token(actor), body),
        done: async () => {
          const view = await this.read(document.id);
          return settled(view) ? view : undefined;
        },
        settleMs,
        result: (response: ApiResponse) => response.body as DocumentView,
        notYet,
      },
      this.api.transients,
    );
  }

  /** Creates document `index` (number CHAOS-000001 ...) and takes it through review to PENDING_APPROVAL. */
  async prepare(index: number): Promise<void> {
    const number = `CHAOS-${String(index + 1).padStart(6, '0')}`;
    const authorToken = this.token(this.cast.author);
    const created = await performOnce({
      label: `create ${number}`,
      send: () =>
        this.api.send('POST', '/api/v1/documents', authorToken, {
          title: `Crash test document ${index + 1}`,
          document_number: number,
          reviewers: this.cast.reviewers,
          approvers: [this.cast.approver],
        }),
      done: async () => {
        const page = await this.api.send('GET', `/api/v1/documents?q=${number}`, authorToken);
        return (page.body as { items?: DocumentView[] }).items?.find((item) => item.document_number === number);
      },
      result: (response) => response.body as DocumentView,
    });
    const document: TrackedDocument = { index, number, id: created.id };
    this.documents[index] = document;
    await this.act(document, this.cast.author, 'submit', undefined, (view) => view.status !== 'DRAFT');
    for (const reviewer of this.cast.reviewers) {
      await this.act(
        document,
        reviewer,
        'review',
        { decision: 'approve', comment: 'fine' },
        (view) =>
          view.status === 'PENDING_APPROVAL' ||
          !view.open_tasks.some((task) => task.kind === 'review' && task.assignee === reviewer),
      );
    }
  }

  /** The approval, naming the effective instant the plan gives this document. */
  async approve(document: TrackedDocument): Promise<void> {
    document.effectiveAt ??= new Date(Date.now() + this.plan.effectiveOffsetsMs[document.index]!).toISOString();
    await this.act(
      document,
      this.cast.approver,
      'approve',
      { effective_at: document.effectiveAt, comment: 'approved' },
      // The approval closes the task first, then moves the document: a closed task is an approval taken.
      (view) =>
        AFTER_APPROVAL.includes(view.status) ||
        !view.open_tasks.some((task) => task.kind === 'approval' && task.assignee === this.cast.approver),
    );
  }

  /**
   * Schedules the obsolescence of a document just seen EFFECTIVE. SCHEDULED_FOR_OBSOLESCENCE accepts
   * the action again (it moves the instant), so a resend after an uncertain failure would record it
   * twice: the check waits up to 30 s for an attempt still in flight (its worker may be restarting)
   * before resending. The document is seen EFFECTIVE in the database, which can be ahead of its
   * workflow: when a worker dies after the EFFECTIVE transition committed but before Temporal heard
   * of it, the workflow still holds APPROVED_PENDING_EFFECTIVE and refuses (409) until the retried
   * activity reports back; that refusal is waited out.
   */
  async scheduleObsolescence(document: TrackedDocument): Promise<void> {
    document.obsoleteAt ??= new Date(Date.now() + this.plan.obsoleteOffsetsMs[document.index]!).toISOString();
    const requested = Date.parse(document.obsoleteAt);
    await this.act(
      document,
      this.cast.author,
      'obsolete',
      { obsolete_at: document.obsoleteAt, reason: 'crash test' },
      (view) => view.status === 'OBSOLETE' || (view.obsolete_at !== null && Date.parse(view.obsolete_at) === requested),
      30_000,
      workflowBehind,
    );
  }

  /**
   * Watches for documents becoming EFFECTIVE (one list request a second) and schedules each one's
   * obsolescence, until every document has one. Resolves when all are scheduled.
   */
  async obsolesceAsTheyBecomeEffective(): Promise<void> {
    const pending = new Map(this.documents.map((document) => [document.id, document]));
    const inFlight = new Set<Promise<void>>();
    const failures: unknown[] = [];
    while (pending.size > 0 || inFlight.size > 0) {
      if (failures.length > 0) throw failures[0];
      if (pending.size > 0) {
        const page = await retryTransient(
          () => this.api.send('GET', '/api/v1/documents?status=EFFECTIVE&page_size=200', this.token(this.cast.author)),
          'list EFFECTIVE documents',
        );
        for (const item of (page.body as { items: DocumentView[] }).items) {
          const document = pending.get(item.id);
          if (!document) continue;
          pending.delete(item.id);
          const work = this.scheduleObsolescence(document).catch((error: unknown) => void failures.push(error));
          inFlight.add(work);
          void work.finally(() => inFlight.delete(work));
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    if (failures.length > 0) throw failures[0];
  }
}
