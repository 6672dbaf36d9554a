// Who holds a topology lock, precisely enough to tell that it is dead. A lock's lease bounds how
// long a holder that died keeps it (etcd: the lease's TTL, 15 s for a write switch), and a write
// switch whose ctld died keeps the moved tables' writes stopped for that long. When the holder
// ran on this host, in this PID namespace, and its process is gone (or its pid now belongs to a
// process started later), nobody can hold the lock any more: the next taker breaks it at once
// instead of waiting the lease out — what the file backend always did by pid.
//
// A holder on another host, or in another PID namespace (a container sharing the host name), is
// never judged: its lease decides, as before.
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

export interface HolderIdentity {
  readonly host: string;
  readonly pid: number;
  /** The process's start time (clock ticks since boot, /proc/<pid>/stat field 22); null off Linux. */
  readonly start: string | null;
  /** The PID namespace (`pid:[4026531836]`); null off Linux. */
  readonly pidNs: string | null;
}

/** A process's start time, or null when it does not exist (or /proc is not there). */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so fields count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 of the whole line
  } catch {
    return null;
  }
}

function pidNamespace(): string | null {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
}

let self: HolderIdentity | null = null;

/** This process. */
export function selfIdentity(): HolderIdentity {
  self ??= { host: hostname(), pid: process.pid, start: processStart(process.pid), pidNs: pidNamespace() };
  return self;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the holder is certainly dead: on this host and in this PID namespace, and its pid is
 * not alive or started at another time than the holder did (the pid was reused). Anything this
 * process cannot judge (another host, another namespace, a malformed record) is not dead.
 */
export function holderDead(h: Partial<HolderIdentity> | null | undefined, me: HolderIdentity = selfIdentity()): boolean {
  if (!h || typeof h.host !== 'string' || typeof h.pid !== 'number' || !Number.isInteger(h.pid) || h.pid <= 0) return false;
  if (h.host !== me.host) return false;
  if ((h.pidNs ?? null) !== me.pidNs) return false;
  if (h.pid === me.pid) return h.start !== undefined && h.start !== null && me.start !== null && h.start !== me.start;
  if (!pidAlive(h.pid)) return true;
  if (h.start === undefined || h.start === null) return false;
  const now = processStart(h.pid);
  return now !== null && now !== h.start;
}
