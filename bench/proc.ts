import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on every Linux build that matters here). */
const USER_HZ = 100;

/**
 * The fields of /proc/<pid>/stat after the command name (which may hold spaces): state(0) ppid(1)
 * pgrp(2) … utime(11) stime(12) cutime(13) cstime(14). Null once the process has gone.
 */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** The process group of `pid`; throws when it has gone. */
export function processGroupOf(pid: number): number {
  const fields = statFields(pid);
  if (!fields) throw new Error(`process ${pid} is not running`);
  return Number(fields[2]);
}

/** Live (not zombie) processes whose parent is `parentPid`. */
export function childPids(parentPid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      const fields = statFields(pid);
      return fields !== null && fields[0] !== 'Z' && Number(fields[1]) === parentPid;
    });
}

/** A process's command line, arguments joined by spaces; null once it has gone. */
export function commandLineOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return null;
  }
}

/** utime + stime + cutime + cstime (children that ended and were reaped) in seconds; null once gone. */
export function ownCpuSeconds(pid: number): number | null {
  const fields = statFields(pid);
  if (!fields) return null;
  return [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0) / USER_HZ;
}

/** Resident memory of a process in MB (VmRSS in /proc/<pid>/status); null when it is not running here. */
export function rssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}
