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

const USAGE = `usage: npm run chaos -- [--m 200] [--seed N] [--effective 30,90] [--obsolete 20,60]
       [--concurrency 6] [--quiet-timeout 300] [--keep-data] [--echo]`;

function pair(value: string, flag: string): [number, number] {
  const [min, max] = value.split(',').map(Number);
  if (!(min! >= 5 && max! > min!)) throw new Error(`${flag} wants min,max seconds with 5 <= min < max\n${USAGE}`);
  return [min!, max!];
}

function positiveInteger(value: string | undefined, flag: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag} wants a positive integer\n${USAGE}`);
  return n;
}

/** Reads the flags; an unknown flag or a bad value throws with the usage. */
export function parseOptions(argv: readonly string[]): ChaosOptions {
  const options: ChaosOptions = {
    m: 200,
    seed: Math.floor(Math.random() * 2 ** 31),
    effectiveSeconds: [30, 90],
    obsoleteSeconds: [20, 60],
    concurrency: 6,
    quietTimeoutSeconds: 300,
    keepData: false,
    echo: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => argv[++i] ?? '';
    switch (flag) {
      case '--m':
        options.m = positiveInteger(value(), flag);
        break;
      case '--seed':
        options.seed = Number(value());
        if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw new Error(`--seed wants an integer >= 0`);
        break;
      case '--effective':
        options.effectiveSeconds = pair(value(), flag);
        break;
      case '--obsolete':
        options.obsoleteSeconds = pair(value(), flag);
        break;
      case '--concurrency':
        options.concurrency = positiveInteger(value(), flag);
        break;
      case '--quiet-timeout':
        options.quietTimeoutSeconds = positiveInteger(value(), flag);
        break;
      case '--keep-data':
        options.keepData = true;
        break;
      case '--echo':
        options.echo = true;
        break;
      default:
        throw new Error(`unknown argument ${flag}\n${USAGE}`);
    }
  }
  return options;
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
