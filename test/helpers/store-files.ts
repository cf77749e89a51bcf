import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import type { KeyStore } from '../../lib/keystore/key-store.js';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { SealedKeyStore } from '../../lib/keystore/sealed-store.js';
import { NONCE_JOURNAL_FILE } from '../../lib/service-from-env.js';

/**
 * Every key-store file under `dir`, by path relative to it, with its bytes as Base64 (for byte
 * comparisons). The replay journal is left out: it changes with every request by design.
 */
export async function snapshotFiles(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await walk(dir)) {
    // The journal and the cross-process lock files are coordination, not stored entries.
    const path = relative(dir, entry.path);
    if (entry.kind === 'file' && !path.endsWith(NONCE_JOURNAL_FILE) && !path.startsWith('.locks/')) out[path] = (await readFile(entry.path)).toString('base64');
  }
  return out;
}

/** Every file and directory under `dir` (and `dir` itself), with its permission bits. */
export async function fileModes(dir: string): Promise<Array<{ path: string; kind: 'file' | 'dir' | 'other'; mode: number }>> {
  return walk(dir, true);
}

async function walk(dir: string, includeSelf = false): Promise<Array<{ path: string; kind: 'file' | 'dir' | 'other'; mode: number }>> {
  const out: Array<{ path: string; kind: 'file' | 'dir' | 'other'; mode: number }> = [];
  if (includeSelf) {
    const s = await lstat(dir);
    out.push({ path: dir, kind: 'dir', mode: s.mode & 0o777 });
  }
  // A running gateway takes and drops lock files meanwhile: an entry gone since the listing is skipped.
  for (const name of (await readdir(dir).catch(ifGone([]))).sort()) {
    const path = join(dir, name);
    const s = await lstat(path).catch(ifGone(undefined));
    if (!s) continue;
    if (s.isDirectory()) {
      out.push({ path, kind: 'dir', mode: s.mode & 0o777 });
      out.push(...(await walk(path)));
    } else {
      out.push({ path, kind: s.isFile() ? 'file' : 'other', mode: s.mode & 0o777 });
    }
  }
  return out;
}

function ifGone<T>(value: T): (err: NodeJS.ErrnoException) => T {
  return (err) => {
    if (err.code === 'ENOENT') return value;
    throw err;
  };
}

/** A TCP port that was free a moment ago on `host`. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `condition` every 20 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The store of a data directory as the gateway opens it: sealed under its root key (the
 * `root.key` file), so tests read entries' plaintext the way the service does.
 */
export async function openSealedDataDir(dataDir: string): Promise<KeyStore> {
  const rootKey = Buffer.from((await readFile(join(dataDir, 'root.key'), 'utf8')).trim(), 'base64');
  return SealedKeyStore.open(new FileKeyStore(dataDir), rootKey);
}
