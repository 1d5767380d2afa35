/**
 * `npm run bench [-- <scenario>...] [--n N] [--quick] [--out dir]`: runs the named scenarios (all by
 * default) one after another against one system (bench/system.ts: the embedded servers, or the
 * cluster and database the environment names), writes `<out>/<scenario>.json` and prints one line
 * per scenario. Goals are reported, not asserted: the exit code is 0 when every scenario ran, 1 when
 * the harness itself failed (a scenario could not run, the system did not start), 2 for a bad command
 * line or an output directory that cannot be written (refused before anything starts).
 */
import path from 'node:path';
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { connectDatabase } from '../db';
import { ApiClient } from './api-client';
import { assertWritableDirectory, decimalInteger, parseFlags, runCommand, UsageError } from './cli';
import { sleep } from './concurrency';
import { gitCommit, machineInfo, reportLine, round, systemTarget, writeReport, type ScenarioReport } from './report';
import { connectTemporal, type BenchContext, type BenchOptions, type Scenario } from './scenario';
import { SCENARIOS } from './scenarios';
import { startSystem } from './system';

const USAGE = `usage: npm run bench [-- <scenario>...] [--n N] [--quick] [--out dir]

scenarios (default: all, in this order):
${SCENARIOS.map((s) => `  ${s.name.padEnd(20)} ${s.description}`).join('\n')}

  --n N      size of burst and sleeping-documents (documents)
  --quick    tiny sizes and short runs: proves the harness works, measures nothing
  --out dir  where the JSON results go (default bench/results)
`;

function parseCommandLine(argv: string[]): { scenarios: Scenario[]; options: BenchOptions; outDir: string } | 'help' {
  const { values, positionals } = parseFlags({
    args: argv,
    allowPositionals: true,
    options: {
      n: { type: 'string' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string', default: path.join(__dirname, 'results') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const n = values.n === undefined ? undefined : decimalInteger(values.n, '--n', 1);
  const scenarios = positionals.map((name) => {
    const scenario = SCENARIOS.find((s) => s.name === name);
    if (!scenario)
      throw new UsageError(`unknown scenario '${name}' (scenarios: ${SCENARIOS.map((s) => s.name).join(', ')})`);
    return scenario;
  });
  return {
    scenarios: scenarios.length > 0 ? scenarios : SCENARIOS,
    options: { n, quick: values.quick },
    outDir: path.resolve(values.out),
  };
}

/** Emails the last scenario queued are still being delivered: let them go before the next one measures. */
async function settle(context: BenchContext): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const [row] = await context.database.sql<{ n: number }[]>`
      select count(*)::int as n from notification_outbox where status = 'pending'`;
    if (row!.n === 0) return;
    await sleep(500);
  }
  context.progress('emails still pending after 120 s; going on');
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv);
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const { scenarios, options, outDir } = parsed;
  // Before the system starts: results that cannot be written would be lost after a whole scenario.
  await assertWritableDirectory(outDir, '--out');
  const progress = (message: string) => process.stderr.write(`[bench] ${message}\n`);
  // Before any Worker or connection of the SDK: its own logs at WARN only (its core's at ERROR), on stderr.
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }) },
    },
  });

  const runStarted = performance.now();
  progress('starting the system');
  const system = await startSystem();
  progress(`system up in ${round((performance.now() - runStarted) / 1000, 1)} s (${system.apiUrl})`);
  const database = connectDatabase(system.databaseUrl, { applicationName: 'edms-bench' });
  const temporal = await connectTemporal(system);
  const context: BenchContext = { system, options, database, api: new ApiClient(system.apiUrl), temporal, progress };
  const machine = machineInfo();
  const commit = gitCommit();
  let failures = 0;
  try {
    for (const [index, scenario] of scenarios.entries()) {
      if (index > 0) await settle(context);
      const startedAt = new Date();
      const started = performance.now();
      progress(`${scenario.name}: running`);
      const report: ScenarioReport = {
        scenario: scenario.name,
        started_at: startedAt.toISOString(),
        duration_s: 0,
        machine,
        target: systemTarget(),
        commit,
        inputs: { quick: options.quick },
        figures: {},
        goals: [],
        pass: false,
      };
      try {
        const outcome = await scenario.run(context);
        Object.assign(report, {
          inputs: { ...outcome.inputs, quick: options.quick },
          target: { ...report.target, ...outcome.target },
          figures: outcome.figures,
          goals: outcome.goals,
          pass: outcome.goals.every((g) => g.pass),
        });
        process.stdout.write(`${reportLine(scenario.name, outcome)}\n`);
      } catch (error) {
        failures++;
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        Object.assign(report, { error: message });
        process.stdout.write(`${scenario.name} ERROR ${message.split('\n')[0]}\n`);
        progress(`${scenario.name} failed:\n${message}`);
      }
      report.duration_s = round((performance.now() - started) / 1000, 1);
      await writeReport(outDir, report);
    }
  } finally {
    await Promise.allSettled([database.close(), temporal.connection.close()]);
    await system.stop();
  }
  progress(`done in ${round((performance.now() - runStarted) / 1000, 1)} s; results in ${outDir}`);
  return failures === 0 ? 0 : 1;
}

runCommand(
  'bench',
  () => main(process.argv.slice(2)),
  (error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  },
);
