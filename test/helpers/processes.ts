import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { constants } from 'node:os';

/*
 * What Linux's /proc tells about a running process, for end-to-end tests that signal a gateway at
 * chosen moments of its start or look at the files it writes to. Every reader answers as if the
 * process had nothing (false, 0, []) once it is gone.
 */

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Whether `pid` has a handler for `signal` now (its SigCgt mask): the signal would not take its default action. */
export function catchesSignal(pid: number, signal: NodeJS.Signals): boolean {
  const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(read(`/proc/${pid}/status`))?.[1];
  return mask !== undefined && (BigInt(`0x${mask}`) & (1n << BigInt(constants.signals[signal] - 1))) !== 0n;
}

/** The bytes `pid` has read so far, from files and pipes (rchar in /proc/<pid>/io). */
export function bytesRead(pid: number): number {
  return Number(/^rchar:\s*(\d+)$/m.exec(read(`/proc/${pid}/io`))?.[1] ?? 0);
}

/** The child processes of `pid` (those its main thread started, as node does). */
export function childPids(pid: number): number[] {
  return read(`/proc/${pid}/task/${pid}/children`).split(' ').filter(Boolean).map(Number);
}

/** The environment `pid` was started with (execve's; a forked child that has not yet run exec shows its parent's). */
export function environmentOf(pid: number): Record<string, string> {
  return Object.fromEntries(
    read(`/proc/${pid}/environ`)
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

/** The paths of the files `pid` has open (a renamed file under its new name). */
export function openPaths(pid: number): string[] {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  return fds.flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
    } catch {
      return [];
    }
  });
}

/**
 * Polls `condition` at every turn of the event loop — for a moment of a process's start that a
 * 20 ms poll would miss — and resolves as soon as it holds; throws after `timeoutMs`.
 */
export async function pollClosely(condition: () => boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
