import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';

export interface ManagedProcessOptions extends Pick<SpawnOptions, 'cwd' | 'env' | 'uid' | 'gid'> {
  /** Called with each line the process writes to stdout or stderr. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A child process the launcher owns. It runs in its own process group, so a Ctrl-C in the terminal
 * reaches only the launcher, which then stops the children in order (API, worker, Temporal, database).
 */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  private readonly recentLines: string[] = [];
  private exitInfo: ExitInfo | undefined;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    options: ManagedProcessOptions = {},
  ) {
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      uid: options.uid,
      gid: options.gid,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        this.remember(`failed to start: ${error.message}`);
        this.exitInfo ??= { code: null, signal: null };
        resolve(this.exitInfo);
      });
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const input = this.child[stream];
      if (!input) continue;
      readline.createInterface({ input }).on('line', (line) => {
        this.remember(line);
        options.onLine?.(line, stream);
      });
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined && this.child.pid !== undefined;
  }

  /** The last lines of output, for error messages when the process dies early. */
  tail(lines = 20): string {
    return this.recentLines.slice(-lines).join('\n');
  }

  private remember(line: string) {
    this.recentLines.push(line);
    if (this.recentLines.length > 200) this.recentLines.shift();
  }

  /** Resolves when a line matches; rejects when the process exits first or the time is up. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<void> {
    if (this.recentLines.some((line) => pattern.test(line))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onLine = (line: string) => {
        if (pattern.test(line)) finish(() => resolve());
      };
      const timer = setTimeout(
        () =>
          finish(() => reject(new Error(`${this.name} did not become ready within ${timeoutMs} ms:\n${this.tail()}`))),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        for (const stream of [this.child.stdout, this.child.stderr]) stream?.off('data', onData);
        settle();
      };
      let buffered = '';
      const onData = (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        lines.forEach(onLine);
      };
      for (const stream of [this.child.stdout, this.child.stderr]) stream?.on('data', onData);
      void this.exited.then(({ code, signal }) =>
        finish(() => reject(new Error(`${this.name} exited (code ${code}, signal ${signal}):\n${this.tail()}`))),
      );
    });
  }

  /** Sends `signal` to the process group, then SIGKILL if it has not exited within `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<ExitInfo> {
    if (!this.running) return this.exited;
    this.signalGroup(signal);
    const timer = setTimeout(() => this.signalGroup('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * SIGKILLs whatever is left of the process group after the process itself died (a killed
   * PostgreSQL leaves backends holding its shared memory, which would refuse a new server).
   */
  killGroup(): void {
    this.signalGroup('SIGKILL');
  }

  private signalGroup(signal: NodeJS.Signals) {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Arguments for `node` to run a TypeScript entry point through tsx, wherever the process's cwd is. */
export function tsxNodeArgs(script: string): string[] {
  return ['--import', pathToFileURL(require.resolve('tsx')).href, script];
}
