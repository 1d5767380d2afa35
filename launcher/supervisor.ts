import type { ManagedProcess } from './managed-process';

/** A child the launcher keeps running. */
export interface SupervisedChild {
  name: string;
  /** Starts the child and resolves once it serves; rejects (after cleaning up) when it cannot. */
  start(): Promise<ManagedProcess>;
  /** Stops it in the orderly way (its own signal and grace time). */
  stop(process: ManagedProcess): Promise<void>;
}

export interface SupervisorLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SupervisorOptions {
  logger: SupervisorLogger;
  /** Wait before the first restart; doubled for each further fast failure. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A child that exits within this time of becoming ready (or never becomes ready) failed fast. */
  stableAfterMs?: number;
  /** This many fast failures in a row and the supervisor gives up on the child. */
  maxFastFailures?: number;
  /** Called once when a child is given up; the launcher then stops everything and exits non-zero. */
  onGiveUp(name: string, reason: string): void;
}

interface Tracked {
  spec: SupervisedChild;
  current?: ManagedProcess;
  /** A restart under way, so a shutdown meanwhile can stop what it brings up. */
  starting?: Promise<ManagedProcess | undefined>;
}

const describeExit = (code: number | null, signal: NodeJS.Signals | null) =>
  signal ? `killed by ${signal}` : `exit code ${code}`;

/**
 * Keeps the launcher's children running: one that exits unexpectedly is logged with its last
 * output and restarted after 1, 2, 4 ... s (at most 30 s), while the others keep serving. A child
 * that keeps failing fast (5 times in a row, each within a minute of its start) is broken, not
 * unlucky: the supervisor gives up, names it and why, and the launcher stops the rest. Nothing is
 * restarted once `stopAll` has begun (Ctrl-C).
 */
export class Supervisor {
  private readonly children = new Map<string, Tracked>();
  private stopping = false;
  private readonly wakeUps = new Set<() => void>();
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly stableAfterMs: number;
  private readonly maxFastFailures: number;

  constructor(private readonly options: SupervisorOptions) {
    this.initialBackoffMs = options.initialBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.stableAfterMs = options.stableAfterMs ?? 60_000;
    this.maxFastFailures = options.maxFastFailures ?? 5;
  }

  /**
   * Starts `spec` and supervises it from then on. A first start that rejects is not retried (a busy
   * port or a bad setting is for the operator to fix); a child that exits afterwards, even at once,
   * is restarted like any crash.
   */
  async add(spec: SupervisedChild): Promise<ManagedProcess> {
    const tracked: Tracked = { spec };
    this.children.set(spec.name, tracked);
    const startedAt = Date.now();
    try {
      tracked.current = await spec.start();
    } catch (error) {
      this.children.delete(spec.name);
      throw error;
    }
    void this.watch(tracked, tracked.current, startedAt);
    return tracked.current;
  }

  /** The child's process right now (it changes on each restart). */
  current(name: string): ManagedProcess | undefined {
    return this.children.get(name)?.current;
  }

  /** Stops restarting, then stops the named children in this order, each waiting for the previous. */
  async stopAll(order: string[], log: (name: string) => void = () => undefined): Promise<void> {
    this.stopping = true;
    for (const wake of this.wakeUps) wake();
    for (const name of order) {
      const tracked = this.children.get(name);
      if (!tracked) continue;
      const restarted = await tracked.starting;
      const process = restarted ?? tracked.current;
      if (process?.running) {
        log(name);
        await tracked.spec.stop(process);
      }
    }
  }

  private async watch(tracked: Tracked, first: ManagedProcess, firstReadyAt: number): Promise<void> {
    const { spec } = tracked;
    const { logger } = this.options;
    let process = first;
    let readyAt = firstReadyAt;
    let fastFailures = 0;
    for (;;) {
      const { code, signal } = await process.exited;
      if (this.stopping) return;
      // What a dead parent leaves behind (PostgreSQL backends, say) would block its successor.
      process.killGroup();
      const ranMs = Date.now() - readyAt;
      fastFailures = ranMs < this.stableAfterMs ? fastFailures + 1 : 1;
      let reason = `${describeExit(code, signal)} after ${Math.round(ranMs / 1000)} s`;
      logger.error(
        { child: spec.name, code, signal, ran_ms: ranMs, output: process.tail() },
        `${spec.name} exited unexpectedly (${reason})`,
      );
      for (;;) {
        if (fastFailures >= this.maxFastFailures) {
          this.options.onGiveUp(
            spec.name,
            `${spec.name} failed ${fastFailures} times in a row, each within ${this.stableAfterMs / 1000} s of starting; last: ${reason}`,
          );
          return;
        }
        const delayMs = Math.min(this.initialBackoffMs * 2 ** (fastFailures - 1), this.maxBackoffMs);
        logger.warn(
          { child: spec.name, delay_ms: delayMs, failures_in_a_row: fastFailures },
          `restarting ${spec.name} in ${delayMs} ms`,
        );
        await this.sleep(delayMs);
        if (this.stopping) return;
        tracked.starting = spec.start().then(
          (started) => started,
          (error: unknown) => {
            reason = `restart failed: ${error instanceof Error ? error.message : String(error)}`;
            return undefined;
          },
        );
        const restarted = await tracked.starting;
        tracked.starting = undefined;
        if (this.stopping) return; // stopAll stops what this restart brought up
        if (restarted) {
          tracked.current = process = restarted;
          readyAt = Date.now();
          logger.info({ child: spec.name, pid: restarted.pid }, `${spec.name} restarted`);
          break;
        }
        fastFailures++;
        logger.error({ child: spec.name }, `${spec.name}: ${reason}`);
      }
    }
  }

  /** A backoff that a shutdown cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakeUps.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakeUps.add(wake);
    });
  }
}
