import { existsSync, renameSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { auditLogFromEnvironment, type AuditRecord, FileAuditLog } from '../../lib/audit/audit-log.js';
import { LineFile, MissingLogDirectoryError } from '../../lib/log-file.js';
import { createLogger } from '../../lib/logger.js';

/*
 * Log files (KMS_AUDIT_LOG, KMS_ACCESS_LOG): never a directory created for them, and reopened at
 * their path on demand (SIGHUP) after logrotate renamed or removed them.
 */

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kms-log-files-'));
  dirs.push(dir);
  return dir;
}

const record = (requestId: string): AuditRecord => ({ time: new Date().toISOString(), type: 'request', requestId, code: 'OK' });
const ids = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { requestId?: string; n?: string }).requestId ?? (JSON.parse(l) as { n: string }).n);
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('A log path in a directory that does not exist', () => {
  it.each<[string, (path: string) => Promise<unknown>]>([
    ['the audit log', (path) => FileAuditLog.open(path)],
    ['the audit log from KMS_AUDIT_LOG', (path) => auditLogFromEnvironment(path)],
    ['a line file (KMS_ACCESS_LOG)', async (path) => LineFile.open(path, 'KMS_ACCESS_LOG')],
  ])('is refused for %s, naming the directory, which is not created', async (_, open) => {
    const dir = await tempDir();
    const missing = join(dir, 'no', 'such');
    const error = await Promise.resolve()
      .then(() => open(join(missing, 'x.log')))
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(error).toBeInstanceOf(MissingLogDirectoryError);
    expect((error as MissingLogDirectoryError).directory).toBe(missing);
    expect((error as Error).message).toContain(`the directory ${missing} does not exist`);
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });

  it('is refused when the "directory" is a file', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'file'), '');
    await expect(FileAuditLog.open(join(dir, 'file', 'audit.log'))).rejects.toBeInstanceOf(MissingLogDirectoryError);
    expect(() => LineFile.open(join(dir, 'file', 'access.log'), 'KMS_ACCESS_LOG')).toThrow(MissingLogDirectoryError);
  });
});

describe('FileAuditLog batches: the lines of a turn are written together, and each writer learns whether its line was', () => {
  it('every writer of a batch that was written is resolved, its lines in the order written', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await FileAuditLog.open(path);
    const writes = ['a', 'b', 'c'].map((id) => log.write(record(id)));
    expect((await Promise.allSettled(writes)).map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(await ids(path)).toEqual(['a', 'b', 'c']);
    await log.close();
  });

  it('every writer of a batch that failed is rejected (fail closed); a write after the failure goes to a new batch, and is written', async () => {
    const path = join(await tempDir(), 'audit.log');
    // Every write to /dev/full fails with ENOSPC.
    await symlink('/dev/full', path);
    const log = await FileAuditLog.open(path);
    const failed = await Promise.allSettled(['a', 'b', 'c'].map((id) => log.write(record(id))));
    expect(failed.map((s) => (s.status === 'rejected' ? (s.reason as NodeJS.ErrnoException).code : s.status))).toEqual(['ENOSPC', 'ENOSPC', 'ENOSPC']);
    await rm(path);
    await log.write(record('d'));
    expect(await ids(path)).toEqual(['d']);
    await log.close();
  });

  it('a batch handed over while the previous one fails is its own: its lines are not failed with it', async () => {
    const path = join(await tempDir(), 'audit.log');
    await symlink('/dev/full', path);
    const log = await FileAuditLog.open(path);
    const first = log.write(record('a')).catch((err: NodeJS.ErrnoException) => err.code);
    await turn();
    // The first batch has been taken (and failed); the path can be written again.
    await rm(path);
    const second = log.write(record('b'));
    expect(await first).toBe('ENOSPC');
    await expect(second).resolves.toBeUndefined();
    expect(await ids(path)).toEqual(['b']);
    await log.close();
  });
});

describe('FileAuditLog.reopen', () => {
  it('after a rename, lines written before stay in the old file and the next go to a new one (0600) at the path; after a removal, the file is created again', async () => {
    const dir = await tempDir();
    const path = join(dir, 'audit.log');
    const log = await FileAuditLog.open(path);
    await log.write(record('a'));
    // Handed over, not yet written: it belongs to the file open now.
    const pending = log.write(record('b'));
    await rename(path, `${path}.1`);
    const reopened = log.reopen();
    await pending;
    await reopened;
    await log.write(record('c'));
    expect(await ids(`${path}.1`)).toEqual(['a', 'b']);
    expect(await ids(path)).toEqual(['c']);
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    await unlink(path);
    await log.reopen();
    await log.write(record('d'));
    expect(await ids(path)).toEqual(['d']);
    await log.close();
  });

  it('a line handed over in the same turn as the reopen, before it, goes to the file open then (its batch is not yet written)', async () => {
    const dir = await tempDir();
    const path = join(dir, 'audit.log');
    const log = await FileAuditLog.open(path);
    await log.write(record('a'));
    renameSync(path, `${path}.1`);
    const pending = log.write(record('b'));
    const reopened = log.reopen();
    const next = log.write(record('c'));
    await Promise.all([pending, reopened, next]);
    expect(await ids(`${path}.1`)).toEqual(['a', 'b']);
    expect(await ids(path)).toEqual(['c']);
    await log.close();
  });

  it('when the path cannot be opened, it rejects and the log is broken (fail closed) until the path can be written', async () => {
    const dir = await tempDir();
    const logs = join(dir, 'logs');
    await mkdir(logs);
    const path = join(logs, 'audit.log');
    const log = await FileAuditLog.open(path);
    await log.write(record('a'));
    await rm(logs, { recursive: true });
    await expect(log.reopen()).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(log.ready()).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(log.write(record('lost'))).rejects.toMatchObject({ code: 'ENOENT' });
    await mkdir(logs);
    await log.ready();
    await log.write(record('b'));
    expect(await ids(path)).toEqual(['b']);
    await log.close();
  });
});

describe('LineFile (KMS_ACCESS_LOG)', () => {
  it('appends lines, and after reopen writes to a new file at the path; what was pending goes to the old one', async () => {
    const dir = await tempDir();
    const path = join(dir, 'access.log');
    const file = LineFile.open(path, 'KMS_ACCESS_LOG');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    file.write('{"n":"1"}\n');
    await turn();
    file.write('{"n":"2"}\n');
    await rename(path, `${path}.1`);
    await file.reopen();
    file.write('{"n":"3"}\n');
    await turn();
    expect(await ids(`${path}.1`)).toEqual(['1', '2']);
    expect(await ids(path)).toEqual(['3']);

    await unlink(path);
    await file.reopen();
    file.write('{"n":"4"}\n');
    await turn();
    expect(await ids(path)).toEqual(['4']);
  });

  it('a logger given one writes only the access lines there, at every level but silent, and can reopen it', async () => {
    const dir = await tempDir();
    const path = join(dir, 'access.log');
    const file = LineFile.open(path, 'KMS_ACCESS_LOG');
    const other: string[] = [];
    const logger = createLogger({ level: 'error', write: (line) => other.push(line), accessLog: file });
    logger.access('request', { requestId: 'r1' });
    logger.warn('not an access line');
    logger.error('an error');
    await turn();
    expect(await ids(path)).toEqual(['r1']);
    expect(other.map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['an error']);
    expect(typeof logger.reopen).toBe('function');
    createLogger({ level: 'silent', accessLog: file }).access('request', { requestId: 'r2' });
    await turn();
    expect(await ids(path)).toEqual(['r1']);
    // Without a file there is nothing to reopen.
    expect(createLogger({ write: () => undefined }).reopen).toBeUndefined();
  });
});
