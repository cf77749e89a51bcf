import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAtomically } from '../../infra/cli/output-file.js';
import { Progress } from '../../infra/cli/progress.js';

/*
 * The output file of encrypt-file / decrypt-file: complete or absent, and never over a file that
 * appeared while it was written unless --force.
 */

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kms-output-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const progress = () => new Progress('test', undefined, false);
const write = (text: string) => (output: Writable) => new Promise<void>((resolve, reject) => output.end(text, () => resolve()).on('error', reject));

describe('Function: writeAtomically', () => {
  it('when OUT appears while the output is written, it is not replaced (usage error) and no temporary file is left', async () => {
    const out = join(dir, 'raced');
    const run = writeAtomically(out, false, progress(), async (output) => {
      await writeFile(out, 'written by someone else');
      await write('ours')(output);
    });
    await expect(run).rejects.toMatchObject({
      exitCode: 2,
      message: `${out} was created while the output was written: nothing replaced it; pass --force to replace it`,
    });
    expect(await readFile(out, 'utf8')).toBe('written by someone else');
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('with force, the same race ends with the complete output in place', async () => {
    const out = join(dir, 'raced-forced');
    await writeAtomically(out, true, progress(), async (output) => {
      await writeFile(out, 'written by someone else');
      await write('ours')(output);
    });
    expect(await readFile(out, 'utf8')).toBe('ours');
  });

  it('when the work fails half way, OUT is absent and the temporary file removed', async () => {
    const out = join(dir, 'failed');
    const run = writeAtomically(out, false, progress(), async (output) => {
      output.write('half');
      throw new Error('the input broke');
    });
    await expect(run).rejects.toThrow('the input broke');
    expect(await readdir(dir)).not.toContain('failed');
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
