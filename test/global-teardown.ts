import { rm } from 'node:fs/promises';
import postgres from 'postgres';
import type { TestResources } from './helpers/resources';

export default async function globalTeardown(): Promise<void> {
  const resources = (globalThis as { __edmsTestResources?: TestResources }).__edmsTestResources;
  if (!resources) return;
  if (resources.maintenanceUrl && resources.databaseName) {
    const admin = postgres(resources.maintenanceUrl, { max: 1, onnotice: () => undefined });
    await admin.unsafe(`drop database if exists "${resources.databaseName}" with (force)`);
    await admin.end();
  }
  if (resources.embedded) {
    await resources.embedded.stop();
    await rm(resources.embedded.dir, { recursive: true, force: true });
  }
}
