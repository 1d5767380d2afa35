import { DEFAULT_LIFECYCLE_SETTINGS } from '../../common';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../api/app';
import { createUser } from '../../api/services/users';
import type { UserRole } from '../../common';
import { connectDatabase, type DatabaseHandle } from '../../db';
import type { BackupDirectories } from '../../api/services/backups';
import type { OutboundPolicy } from '../../lib/outbound-policy';
import { plainTemporalSettings } from '../../lib/temporal';
import { testDatabaseUrl } from './resources';

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';

export interface TestApi {
  app: FastifyInstance;
  database: DatabaseHandle;
  /** Creates a user with a unique name straight through the service; returns its credentials. */
  createUser(role: UserRole, fields?: { manager?: string }): Promise<{ username: string; password: string }>;
  /** Logs in through HTTP and returns the bearer header. */
  login(username: string, password: string): Promise<{ authorization: string }>;
  /** A fresh user of `role`, logged in. */
  as(role: UserRole): Promise<{ authorization: string; username: string }>;
  close(): Promise<void>;
}

export const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/**
 * The real app on the test database. Without a Temporal address it points at a closed port, which
 * only the health check ever tries.
 */
export async function buildTestApi(
  options: {
    temporalAddress?: string;
    namespace?: string;
    loginAttemptsPerMinute?: number;
    scheduledJobs?: { maxJobsPerUser: number; createsPerMinute: number };
    /** Default: webhook jobs may call public addresses only, as in production. */
    outboundPolicy?: OutboundPolicy;
    /** Default: the test database. */
    databaseUrl?: string;
    /** Where data and backups live (default: unset, only the static destination checks). */
    directories?: BackupDirectories;
  } = {},
): Promise<TestApi> {
  const database = connectDatabase(options.databaseUrl ?? testDatabaseUrl());
  const app = await buildApp({
    database,
    temporalSettings: plainTemporalSettings(options.temporalAddress ?? '127.0.0.1:1', options.namespace),
    jwtSecret: TEST_JWT_SECRET,
    jwtTtlSeconds: 600,
    loginAttemptsPerMinute: options.loginAttemptsPerMinute ?? 1000,
    logger: pino({ level: 'silent' }),
    timezone: 'UTC',
    lifecycle: DEFAULT_LIFECYCLE_SETTINGS,
    version: 'test',
    scheduledJobs: options.scheduledJobs ?? { maxJobsPerUser: 1000, createsPerMinute: 1000 },
    outboundPolicy: options.outboundPolicy ?? { allowedHosts: [], allowPrivateNetworks: false },
    directories: options.directories,
  });
  await app.ready();

  const api: TestApi = {
    app,
    database,
    async createUser(role, fields = {}) {
      const username = uniqueName(role);
      const password = `pw-${randomUUID()}`;
      await createUser(
        database.db,
        { username, password, role, email: `${username}@example.test`, ...fields },
        { username: 'test-setup' },
      );
      return { username, password };
    },
    async login(username, password) {
      const response = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });
      if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
      return { authorization: `Bearer ${response.json<{ access_token: string }>().access_token}` };
    },
    async as(role) {
      const { username, password } = await api.createUser(role);
      return { ...(await api.login(username, password)), username };
    },
    async close() {
      await app.close();
      await database.close();
    },
  };
  return api;
}
