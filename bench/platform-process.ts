import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { PlatformCommand } from './converse-platform.js';

/** A numeric `--name value` flag of the benchmark's command line, or `fallback`. */
export function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  return Number.isFinite(value) ? value : fallback;
}

/** A size field of /proc/<pid>/status (VmRSS, VmHWM, …) in bytes. */
export function procStatus(pid: number, field: string): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return match ? Number(match[1]) * 1024 : 0;
}

/** CPU seconds a process has used so far, in user space and in the kernel. */
export function procCpuSeconds(pid: number): { user: number; system: number } {
  // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised name) are utime and stime in clock ticks.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/** Resident memory of a process's own children (e.g. the platform's document readers), added up, in bytes. */
export function childrenRss(pid: number): number {
  let children: string[];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return 0;
  }
  let total = 0;
  for (const child of children) {
    try {
      total += procStatus(Number(child), 'VmRSS');
    } catch {
      // The child exited while we looked.
    }
  }
  return total;
}

/** The platform under test in a child process (bench/converse-platform.ts), driven by commands. */
export interface ForkedPlatform {
  run(command: PlatformCommand): Promise<unknown>;
  cpuSeconds(): { user: number; system: number };
  rss(): number;
  /** Resident memory of the platform's own child processes (document readers), added up. */
  childrenRss(): number;
  /** Peak resident memory of the platform's process so far, in bytes. */
  peakRss(): number;
  /** False once the process has exited (it crashed, or was closed). */
  alive(): boolean;
  close(): Promise<void>;
}

/** Forks bench/converse-platform.ts with `nodeFlags` and resolves once it says it is ready. */
export async function forkPlatform(nodeFlags: string[] = []): Promise<ForkedPlatform> {
  const child = fork(new URL('./converse-platform.ts', import.meta.url), ['--platform-child'], {
    execArgv: ['--import', 'tsx', ...nodeFlags],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  let exited = false;
  child.once('exit', () => (exited = true));
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`platform process exited with ${code}`)));
    child.on('message', (message: { ready?: boolean; id?: number; result?: unknown; error?: string }) => {
      if (message.ready) return resolve();
      const waiter = pending.get(message.id!);
      pending.delete(message.id!);
      if (message.error !== undefined) waiter?.reject(new Error(message.error));
      else waiter?.resolve(message.result);
    });
  });
  const pid = child.pid!;
  return {
    run(command) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ id, command });
      });
    },
    cpuSeconds: () => (exited ? { user: 0, system: 0 } : procCpuSeconds(pid)),
    rss: () => (exited ? 0 : procStatus(pid, 'VmRSS')),
    childrenRss: () => (exited ? 0 : childrenRss(pid)),
    peakRss: () => (exited ? 0 : procStatus(pid, 'VmHWM')),
    alive: () => !exited,
    async close() {
      if (exited) return;
      const done = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await done;
    },
  };
}
