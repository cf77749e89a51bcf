import { vi } from 'vitest';
import { run } from '../../infra/cli/program.js';

/** What a `kms` run in this process left: its exit code and what it printed. */
export interface CliRunHere {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `kms …args` in this process (the program's own `run`, so mocks of AWS clients apply), with
 * `env` over the process's environment for the run only, and returns its exit code and output.
 */
export async function runKmsHere(args: readonly string[], env: Record<string, string> = {}): Promise<CliRunHere> {
  const before = { ...process.env };
  Object.assign(process.env, env);
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  try {
    return { code: await run(['node', 'kms', ...args]), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.env = before;
  }
}
