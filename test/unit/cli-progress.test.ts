import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatBytes, Progress } from '../../infra/cli/progress.js';

/** Runs `bytes` through a Progress and returns what it drew on stderr. */
async function drawn(bytes: number, total: number | undefined, tty: boolean): Promise<string> {
  let out = '';
  const wasTty = process.stderr.isTTY;
  Object.defineProperty(process.stderr, 'isTTY', { value: tty, configurable: true });
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  try {
    const progress = new Progress('encrypt', total, true);
    const sink = new Writable({ write: (_c, _e, done) => done() });
    await pipeline(Readable.from([Buffer.alloc(bytes / 2), Buffer.alloc(bytes / 2)]), progress, sink);
    expect(progress.bytes).toBe(bytes);
  } finally {
    write.mockRestore();
    Object.defineProperty(process.stderr, 'isTTY', { value: wasTty, configurable: true });
  }
  return out;
}

describe('Class: Progress (the kms file-command progress bar)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('when stderr is a terminal and the size is known, it ends on a full bar at 100% with the size, on its own line', async () => {
    const out = await drawn(2 * 1024 * 1024, 2 * 1024 * 1024, true);
    const last = out.split('\r\x1b[K').at(-1)!;
    expect(last).toMatch(/^encrypt \[#{30}\] 100% 2\.0 MiB\/2\.0 MiB .+\/s\n$/);
  });

  it('when the size is unknown (stdin), it shows the bytes so far and the rate', async () => {
    const out = await drawn(4096, undefined, true);
    expect(out.split('\r\x1b[K').at(-1)).toMatch(/^encrypt 4\.0 KiB .+\/s\n$/);
  });

  it('when stderr is not a terminal (a pipe, a log, CI), it prints nothing at all', async () => {
    expect(await drawn(4096, 4096, false)).toBe('');
  });

  it('when sizes are formatted, units step by 1024', () => {
    expect([formatBytes(512), formatBytes(1536), formatBytes(5 * 1024 ** 3)]).toEqual(['512 B', '1.5 KiB', '5.0 GiB']);
  });
});
