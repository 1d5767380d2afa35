/**
 * `npm run chaos`: the crash test. Starts the whole system as `npm start` runs it, puts M documents
 * in flight from approval to EFFECTIVE to OBSOLETE through the API, SIGKILLs the worker (twice), the
 * Temporal dev server and PostgreSQL at seeded random moments meanwhile, waits for quiet, and checks
 * that nothing was lost or duplicated. Prints the figures, writes bench/results/chaos.json, and exits
 * 1 on any problem, 2 when the run itself could not be carried out or the command line is bad (a
 * bad flag is refused with one line before anything starts).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import postgres from 'postgres';
import { PROJECT_ROOT } from '../../lib/paths';
import { assertWritableDirectory, runCommand } from '../cli';
import { startSystem } from '../system';
import { ApiClient } from './api-client';
import { checkEverything, waitForQuiet } from './checks';
import { runKills, type KillRecord } from './kills';
import { drawPlan, parseOptions, USAGE } from './plan';
import { buildReport, formatReport, writeReport } from './report';
import { inPool, Workload } from './workload';

const RESULTS_FILE = path.join(PROJECT_ROOT, 'bench', 'results', 'chaos.json');
/** The launcher's and services' output (warnings and errors), to read beside the report. */
const LAUNCHER_LOG = path.join(PROJECT_ROOT, 'bench', 'results', 'chaos-launcher.log');

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  // Before the system starts: a report that cannot be written would be lost after the whole run.
  await assertWritableDirectory(path.dirname(RESULTS_FILE), 'the results directory');
  const plan = drawPlan(options);
  const began = Date.now();
  const log = (line: string) =>
    process.stderr.write(`[chaos +${((Date.now() - began) / 1000).toFixed(1)} s] ${line}\n`);
  log(
    `M=${options.m} seed=${options.seed}; kills planned: ${plan.kills.map((k) => `${k.service}@${k.atMs / 1000}s`).join(', ')}`,
  );

  const system = await startSystem({ keepData: options.keepData, echo: options.echo });
  const durationsS: Record<string, number> = { start: (Date.now() - began) / 1000 };
  log(`system up (data in ${system.dataDir})`);
  const sql = postgres(system.databaseUrl, { max: 2, onnotice: () => undefined });
  let connection: Connection | undefined;
  try {
    const api = new ApiClient(system.apiUrl);
    const workload = await Workload.cast(api, system.adminToken, plan);
    let mark = Date.now();
    await inPool(
      Array.from({ length: options.m }, (_, i) => i),
      options.concurrency,
      (i) => workload.prepare(i),
    );
    durationsS.prepare = (Date.now() - mark) / 1000;
    log(`${options.m} documents PENDING_APPROVAL in ${durationsS.prepare.toFixed(1)} s`);

    // From the first approval on, instants start falling due and the kills begin.
    const startedAt = (mark = Date.now());
    const problems: string[] = [];
    const kills = runKills(system, sql, plan.kills, startedAt, log).catch((error: unknown): KillRecord[] => {
      problems.push(`kills: ${(error as Error).message}`);
      return [];
    });
    // The first documents become EFFECTIVE while the last are still being approved.
    const obsolescences = workload.obsolesceAsTheyBecomeEffective();
    obsolescences.catch(() => undefined); // awaited below; a failed approval must not leave it unhandled
    await inPool(workload.documents, options.concurrency, (document) => workload.approve(document));
    durationsS.approve = (Date.now() - mark) / 1000;
    log(`${options.m} documents approved in ${durationsS.approve.toFixed(1)} s`);
    await obsolescences;
    log('every document has its obsolescence scheduled');
    const killRecords = await kills;
    for (const kill of killRecords) if (kill.error) problems.push(`kill of ${kill.service}: ${kill.error}`);

    connection = await Connection.connect({ address: system.temporalAddress });
    const temporal = new Client({ connection, namespace: system.namespace });
    const lastInstant = Math.max(...workload.documents.map((document) => Date.parse(document.obsoleteAt!)));
    const timeoutMs = Math.max(0, lastInstant - Date.now()) + options.quietTimeoutSeconds * 1000;
    const quiet = await waitForQuiet(sql, temporal, timeoutMs, log);
    durationsS.untilQuiet = (Date.now() - startedAt) / 1000;
    if (quiet.notObsolete + quiet.outboxNotSent + quiet.runningWorkflows > 0) {
      problems.push(`no quiet within ${Math.round(timeoutMs / 1000)} s of the last obsolescence being scheduled`);
    }

    const checks = await checkEverything(
      { sql, temporal, mailDir: path.join(system.dataDir, 'mail') },
      workload.documents,
      { author: workload.cast.author, assignees: [...workload.cast.reviewers, workload.cast.approver] },
    );
    durationsS.total = (Date.now() - began) / 1000;
    const report = buildReport(options, startedAt, durationsS, killRecords, checks, api, problems);
    await writeReport(report, RESULTS_FILE);
    process.stdout.write(`${formatReport(report)}\n`);
    return report.pass ? 0 : 1;
  } catch (error) {
    process.stderr.write(`the launcher's last output:\n${system.output.join('').slice(-8000)}\n`);
    throw error;
  } finally {
    await writeFile(LAUNCHER_LOG, system.output.join(''));
    await sql.end({ timeout: 5 });
    await connection?.close();
    await system.stop();
    if (options.keepData) log(`data kept in ${system.dataDir}`);
  }
}

runCommand('chaos', main, (error) => {
  process.stderr.write(`chaos: the run could not be carried out: ${(error as Error).stack ?? String(error)}\n`);
  return 2;
});
