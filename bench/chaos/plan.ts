import { decimalInteger, parseFlags, UsageError } from '../cli';
import type { ServiceName } from '../system';
import { createPrng } from './prng';

/** The crash test's settings, from the command line (`npm run chaos -- --m 30 --seed 7`). */
export interface ChaosOptions {
  /** Documents in flight. */
  m: number;
  seed: number;
  /** Each approval names an effective instant this many seconds after it is sent: [min, max). */
  effectiveSeconds: [number, number];
  /** Each obsolescence is scheduled for this many seconds after the document was seen EFFECTIVE. */
  obsoleteSeconds: [number, number];
  /** API requests in flight at once while documents are prepared and approved. */
  concurrency: number;
  /** How long to wait for quiet after the last planned instant before calling it a loss. */
  quietTimeoutSeconds: number;
  /** Keep the data directory (its path is printed). */
  keepData: boolean;
  /** Echo the launcher's output to stderr. */
  echo: boolean;
}

export const USAGE = `usage: npm run chaos -- [--m 200] [--seed N] [--effective 30,90] [--obsolete 20,60]
       [--concurrency 6] [--quiet-timeout 300] [--keep-data] [--echo]

  --m N                documents in flight (default 200)
  --seed N             seed of every random choice, >= 0 (default: drawn and printed)
  --effective MIN,MAX  seconds from approval to the effective instant (default 30,90; 5 <= MIN < MAX)
  --obsolete MIN,MAX   seconds from EFFECTIVE to the obsolescence (default 20,60; 5 <= MIN < MAX)
  --concurrency N      API requests in flight while documents are prepared and approved (default 6)
  --quiet-timeout S    seconds to wait for quiet after the last instant before calling it a loss (default 300)
  --keep-data          keep the data directory (its path is printed)
  --echo               echo the launcher's output to stderr
`;

/** `MIN,MAX` whole seconds, 5 <= MIN < MAX: an instant closer than 5 s could pass before it is asked for. */
function secondsRange(value: string, flag: string): [number, number] {
  const parts = value.split(',');
  const [min, max] = parts.map((part) => (/^\d+$/.test(part) ? Number(part) : Number.NaN));
  if (parts.length !== 2 || !(min! >= 5 && max! > min!)) {
    throw new UsageError(`${flag} wants MIN,MAX whole seconds with 5 <= MIN < MAX (got ${JSON.stringify(value)})`);
  }
  return [min!, max!];
}

/** Reads the flags; a bad one throws a UsageError naming it. */
export function parseOptions(argv: string[]): ChaosOptions | 'help' {
  const { values } = parseFlags({
    args: argv,
    options: {
      m: { type: 'string' },
      seed: { type: 'string' },
      effective: { type: 'string' },
      obsolete: { type: 'string' },
      concurrency: { type: 'string' },
      'quiet-timeout': { type: 'string' },
      'keep-data': { type: 'boolean', default: false },
      echo: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const integer = (value: string | undefined, flag: string, min: number, otherwise: number) =>
    value === undefined ? otherwise : decimalInteger(value, flag, min);
  return {
    m: integer(values.m, '--m', 1, 200),
    seed: integer(values.seed, '--seed', 0, Math.floor(Math.random() * 2 ** 31)),
    effectiveSeconds: values.effective === undefined ? [30, 90] : secondsRange(values.effective, '--effective'),
    obsoleteSeconds: values.obsolete === undefined ? [20, 60] : secondsRange(values.obsolete, '--obsolete'),
    concurrency: integer(values.concurrency, '--concurrency', 1, 6),
    quietTimeoutSeconds: integer(values['quiet-timeout'], '--quiet-timeout', 1, 300),
    keepData: values['keep-data'],
    echo: values.echo,
  };
}

/** One planned SIGKILL: which service, and when (ms after the first approval is sent). */
export interface PlannedKill {
  service: ServiceName;
  atMs: number;
}

/** Everything random in a run, drawn up front from the seed. */
export interface ChaosPlan {
  /** Per document (by index): effective instant = approval sent + this (ms). */
  effectiveOffsetsMs: number[];
  /** Per document (by index): obsolescence instant = seen EFFECTIVE + this (ms). */
  obsoleteOffsetsMs: number[];
  /** In order of time; each waits for the previous service to be back. */
  kills: PlannedKill[];
}

/** The services killed, as the issue asks: the worker twice, Temporal and PostgreSQL once each. */
export const KILLED_SERVICES: readonly ServiceName[] = ['worker', 'worker', 'temporal', 'postgres'];

/**
 * Draws the plan. Kill moments fall between half the shortest effective delay and the longest
 * effective delay plus the shortest obsolescence delay: while EFFECTIVE and OBSOLETE instants pass.
 */
export function drawPlan(options: ChaosOptions): ChaosPlan {
  const prng = createPrng(options.seed);
  const [effMin, effMax] = options.effectiveSeconds;
  const [obsMin, obsMax] = options.obsoleteSeconds;
  const effectiveOffsetsMs = Array.from({ length: options.m }, () => Math.round(prng.uniform(effMin, effMax) * 1000));
  const obsoleteOffsetsMs = Array.from({ length: options.m }, () => Math.round(prng.uniform(obsMin, obsMax) * 1000));
  const services = prng.shuffle(KILLED_SERVICES);
  const moments = services
    .map(() => Math.round(prng.uniform(effMin / 2, effMax + obsMin) * 1000))
    .sort((a, b) => a - b);
  return {
    effectiveOffsetsMs,
    obsoleteOffsetsMs,
    kills: services.map((service, i) => ({ service, atMs: moments[i]! })),
  };
}
