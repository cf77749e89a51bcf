/**
 * The `kms` command's exit codes, declared once (docs/cli.md documents the same table, and
 * test/e2e/cli.test.ts pins them). Scripts can rely on them:
 *
 * | code | meaning |
 * | ---- | ------- |
 * | 0    | success |
 * | 1    | refused: the API (or the local store, for `access-keys`) said no; stderr has `Code: Message` (also: an unexpected internal failure) |
 * | 2    | usage: an unknown command or option, a missing or malformed argument, no credentials, an invalid policy, an output file that exists without --force |
 * | 3    | unavailable: the endpoint cannot be reached (TLS failures too), a local file or the store cannot be read or written, no key store where the command points, the gateway cannot start |
 * | 4    | the encrypted file does not authenticate: modified, truncated, reordered, spliced, or not a kms file |
 * | 130  | interrupted (SIGINT); a partly written output file is removed |
 */
export const EXIT = {
  OK: 0,
  REFUSED: 1,
  USAGE: 2,
  UNAVAILABLE: 3,
  FILE_AUTHENTICATION: 4,
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the CLI reports itself: printed as `Code: Message` when it has a code, else the message. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string) => new CliError(EXIT.USAGE, message);
