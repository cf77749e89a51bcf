import { Command, CommanderError, Option } from 'commander';
import {
  FileFormatError,
  FrameAuthenticationError,
  InvalidRecordError,
  KmsApiError,
  KmsConnectionError,
  PartitionKeysError,
  RegistryUnavailableError,
} from '@alibaba-kms-compatible/client';
import { KmsError } from '../../lib/errors.js';
import { registerAccessKeys } from './access-keys.js';
import { registerAliases } from './aliases.js';
import { summariseGroups } from './command-table.js';
import { integer } from './common.js';
import { describeConnectionFailure } from './connection-errors.js';
import { registerDataKey } from './datakey.js';
import { CliError, EXIT, type ExitCode } from './exit-codes.js';
import { registerFiles } from './files.js';
import { registerKeys } from './keys.js';
import { registerPartitions } from './partitions.js';
import { registerSecrets } from './secrets.js';
import { OUTPUT_FORMATS } from './output.js';
import { registerServe } from './serve.js';
import { registerServiceInfo } from './service-info.js';
import { registerSigning } from './signing.js';
import { registerStore } from './store.js';
import { closeOpenedStores } from './store-access.js';
import { isSchemaError } from '../../lib/zod.js';
import { CA_FILE, CLIENT_CERT, CLIENT_KEY, ENDPOINT, OUTPUT } from '../../lib/config/client.js';
import { defaultOf } from '../../lib/config/variable.js';

const VERSION = '0.1.0';

/** The `kms` program: global options and every command group. */
export function buildProgram(): Command {
  const program = new Command('kms')
    .description(
      'Client of a KMS that speaks the Alibaba Cloud KMS API (2016-01-20): keys, aliases, secrets, data keys, file encryption; and the local gateway',
    )
    .version(VERSION)
    .addOption(new Option('--endpoint <url>', `API endpoint: http(s)://host[:port], or host[:port] (default ${defaultOf(ENDPOINT)})`).env(ENDPOINT.name))
    .addOption(new Option('--access-key-id <id>', 'access key id').env('ALIBABA_CLOUD_ACCESS_KEY_ID'))
    .addOption(
      new Option('--access-key-secret <secret>', 'access key secret (prefer the environment: flags show in ps)').env('ALIBABA_CLOUD_ACCESS_KEY_SECRET'),
    )
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default(defaultOf(OUTPUT)).env(OUTPUT.name))
    .addOption(new Option('--timeout <ms>', 'per-request timeout in milliseconds').argParser(integer(1, 3_600_000)).default(30_000))
    .addOption(new Option('--ca-file <pem>', "https: trust this CA for the endpoint's certificate").env(CA_FILE.name))
    .addOption(new Option('--client-cert <pem>', 'https: a client certificate, for an endpoint that requires one (mutual TLS)').env(CLIENT_CERT.name))
    .addOption(new Option('--client-key <pem>', "the client certificate's private key").env(CLIENT_KEY.name))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .addHelpText(
      'after',
      `
Exit codes: 0 ok; 1 refused by the API or the store (stderr: "Code: Message"); 2 usage (an
existing output file without --force too); 3 endpoint unreachable (TLS too), I/O error, or no key
store there; 4 encrypted file does not authenticate; 130 interrupted.`,
    );
  registerKeys(program);
  registerAliases(program);
  registerSecrets(program);
  registerServiceInfo(program);
  registerDataKey(program);
  registerSigning(program);
  registerAccessKeys(program);
  registerFiles(program);
  registerPartitions(program);
  registerStore(program);
  registerServe(program);
  summariseGroups(program);
  return program;
}

/** Runs the CLI on `argv` (process.argv form) and returns the exit code; prints results and errors. */
export async function run(argv: readonly string[]): Promise<ExitCode | number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return EXIT.OK;
  } catch (err) {
    return report(err);
  } finally {
    await closeOpenedStores();
  }
}

/** Prints an error (one line on stderr) and returns its exit code; see exit-codes.ts. */
export function report(err: unknown): ExitCode | number {
  if (err instanceof CommanderError) {
    // Commander printed its message (or the help) already.
    return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  if (err instanceof KmsApiError || err instanceof KmsError) {
    process.stderr.write(`${err.code}: ${err.message}\n`);
    return EXIT.REFUSED;
  }
  if (err instanceof CliError) {
    process.stderr.write(`${err.code ? `${err.code}: ` : ''}${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof RegistryUnavailableError) {
    process.stderr.write(`${err.code}: ${err.message}\n`);
    return EXIT.UNAVAILABLE;
  }
  if (err instanceof InvalidRecordError) {
    process.stderr.write(`${err.code}: ${err.message}\n`);
    return EXIT.FILE_AUTHENTICATION;
  }
  if (err instanceof PartitionKeysError) {
    process.stderr.write(`${err.code}: ${err.message}\n`);
    return EXIT.REFUSED;
  }
  if (err instanceof KmsConnectionError) {
    process.stderr.write(`${describeConnectionFailure(err)}\n`);
    return EXIT.UNAVAILABLE;
  }
  if (err instanceof FrameAuthenticationError || err instanceof FileFormatError) {
    process.stderr.write(`the file does not authenticate: ${err.message}; no output was written\n`);
    return EXIT.FILE_AUTHENTICATION;
  }
  const errno = err as NodeJS.ErrnoException;
  if (typeof errno?.code === 'string' && typeof errno.syscall === 'string') {
    process.stderr.write(`${errno.path ? `${errno.path}: ` : ''}${errno.code} (${errno.syscall})\n`);
    return EXIT.UNAVAILABLE;
  }
  if (isSchemaError(err)) {
    process.stderr.write(`invalid input: ${err.message}\n`);
    return EXIT.USAGE;
  }
  process.stderr.write(`unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
  return EXIT.REFUSED;
}
