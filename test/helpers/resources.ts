/** What the global setup prepared, handed to the tests through these environment variables. */
export const TEST_ENV = {
  databaseUrl: 'EDMS_TEST_DATABASE_URL',
  cli: 'EDMS_TEST_TEMPORAL_CLI',
  testServer: 'EDMS_TEST_TEMPORAL_TEST_SERVER',
} as const;

export interface TestResources {
  databaseUrl?: string;
  maintenanceUrl?: string;
  databaseName?: string;
  embedded?: { dir: string; stop: () => Promise<void> };
}

export function testDatabaseUrl(): string {
  const url = process.env[TEST_ENV.databaseUrl];
  if (!url) throw new Error(`${TEST_ENV.databaseUrl} is unset: run the tests through jest (test/global-setup.ts)`);
  return url;
}
