import type { Client } from '@temporalio/client';
import type { Database } from '../../../db';
import type { OutboundPolicy } from '../../../lib/outbound-policy';

export interface JobServiceDeps {
  db: Database;
  temporal: Client;
  /** At most this many jobs (not deleted) per creator. */
  maxJobsPerUser: number;
  /** Where webhook jobs may call: checked when a job is saved, and again by every run. */
  outboundPolicy: OutboundPolicy;
}
