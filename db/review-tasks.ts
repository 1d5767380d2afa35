import { and, eq, lt, sql } from 'drizzle-orm';
import { reviewTasks } from './schema';

/** A review or approval task still open past its due instant (what reminders, escalations and dashboards count). */
export const overdueReviewTask = and(eq(reviewTasks.status, 'pending'), lt(reviewTasks.dueAt, sql`now()`));
