import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { type Command, Option } from 'commander';
import {
  DEFAULT_FRAME_SIZE,
  headerContext,
  KmsApiError,
  MAX_FRAME_SIZE,
  openFile,
  openPartitionKeys,
  PARTITION_CONTEXT_KEY,
  sealFile,
} from '@alibaba-kms-compatible/client';
import { clientOf, connectionOf, contextPair, contextParam, integer } from './common.js';
import { CliError, EXIT, usageError } from './exit-codes.js';
import { checkOutput, writeAtomically } from './output-file.js';
import { registryOf, registryOption } from './registry-option.js';
import { Progress } from './progress.js';

/** Read in large chunks: a frame is 64 KiB, and fewer, bigger reads are faster on multi-GB files. */
const READ_CHUNK = 1024 * 1024;

/**
 * API refusals of a header's blob or context that mean the file was modified (or is not what it
 * claims): the blob does not authenticate, is malformed, or names no version.
 */
const HEADER_REFUSALS = new Set(['InvalidCiphertext', 'InvalidParameter', 'MissingParameter', 'Forbidden.KeyVersionNotFound']);

/**
 * `kms encrypt-file` / `kms decrypt-file`: envelope encryption of a file in one command
 * (GenerateDataKey, AES-256-GCM frames, the encrypted data key in the header; see
 * the client package's file-envelope/format.ts). Constant memory whatever the file's size. The output is written to
 * a temporary file beside OUT and moved into place only when complete and authenticated; an
 * existing OUT (IN itself included) is replaced only with --force (see ./output-file.ts).
 */
export function registerFiles(program: Command): void {
  program
    .command('encrypt-file')
    .description(
      'encrypt a file with a fresh data key of <key> (GenerateDataKey), or with a partition\'s data key (--partition: Decrypt only); "-" reads stdin / writes stdout',
    )
    .argument('<in>', 'the plaintext file, or - for stdin')
    .argument('<out>', 'the encrypted file to write, or - for stdout')
    .option('--key <key>', 'key id, alias/<name> or ARN (a fresh data key)')
    .option('--partition <id>', "use this partition's data key from the registry instead (needs kms:Decrypt only)")
    .addOption(registryOption())
    .addOption(new Option('--context <key=value>', 'EncryptionContext pair, repeatable; stored in the header, bound to the data key').argParser(contextPair))
    .addOption(new Option('--frame-size <bytes>', 'plaintext bytes per frame').argParser(integer(1, MAX_FRAME_SIZE)).default(DEFAULT_FRAME_SIZE).hideHelp())
    .option('--force', 'replace OUT if it exists (even when it is IN: replaced only once complete)')
    .option('--no-progress', 'no progress bar (there is none unless stderr is a terminal)')
    .action(async (inPath: string, outPath: string, options: EncryptOptions, command: Command) => {
      if ((options.key === undefined) === (options.partition === undefined)) throw usageError('give exactly one of --key and --partition');
      if (options.partition !== undefined && options.context)
        throw usageError("--context does not go with --partition: the partition's own context is bound to its key");
      const size = await inputSize(inPath);
      await checkOutput(outPath, { inPath, force: options.force === true });
      const { dataKey, ciphertextBlob, context } =
        options.partition !== undefined ? await partitionDataKey(command, options.partition, options.registry) : await freshDataKey(command, options);
      const progress = new Progress('encrypting', size, options.progress);
      try {
        await writeAtomically(outPath, options.force === true, progress, (output, signal) =>
          sealFile(openInput(inPath), output, {
            dataKey,
            ciphertextBlob,
            context,
            frameSize: options.frameSize,
            through: [progress],
            signal,
          }),
        );
      } finally {
        // sealFile zeroes it too; this covers a failure before sealFile ran.
        dataKey.fill(0);
      }
    });

  program
    .command('decrypt-file')
    .description(
      "decrypt a file made by encrypt-file (Decrypt of its header's data key; a partition file's key from the registry); OUT appears only if every frame authenticates",
    )
    .argument('<in>', 'the encrypted file, or - for stdin')
    .argument('<out>', 'the plaintext file to write, or - for stdout (then a late failure shows only in the exit code)')
    .addOption(
      new Option(
        '--context <key=value>',
        'require this EncryptionContext pair in the file (repeatable); for a partition file, its partition context',
      ).argParser(contextPair),
    )
    .option('--partition <id>', 'require the file to belong to this partition')
    .addOption(registryOption())
    .option('--force', 'replace OUT if it exists (even when it is IN: replaced only once every frame authenticates)')
    .option('--no-progress', 'no progress bar (there is none unless stderr is a terminal)')
    .action(async (inPath: string, outPath: string, options: DecryptOptions, command: Command) => {
      const client = clientOf(command);
      const size = await inputSize(inPath);
      await checkOutput(outPath, { inPath, force: options.force === true });
      const progress = new Progress('decrypting', size, options.progress);
      await writeAtomically(outPath, options.force === true, progress, (output, signal) =>
        openFile(openInput(inPath), output, {
          through: [progress],
          signal,
          async unwrapDataKey(header) {
            const context = headerContext(header);
            requireContext(context, options);
            const fromPartition = await partitionKeyOf(command, header.ciphertextBlob, context, options.registry, options.partition !== undefined);
            if (fromPartition) return fromPartition;
            let result: Record<string, unknown>;
            try {
              result = await client.call('Decrypt', { CiphertextBlob: header.ciphertextBlob, EncryptionContext: contextParam(context) });
            } catch (err) {
              if (err instanceof KmsApiError && HEADER_REFUSALS.has(err.code)) {
                throw new CliError(
                  EXIT.FILE_AUTHENTICATION,
                  `the file's header does not authenticate (${err.code}: ${err.message}): the file was modified, or is not a kms encrypted file`,
                );
              }
              throw err;
            }
            const dataKey = Buffer.from(String(result.Plaintext ?? ''), 'base64');
            if (dataKey.length !== 32) {
              dataKey.fill(0);
              throw new CliError(EXIT.FILE_AUTHENTICATION, "the file's data key is not 32 bytes: not a file made by kms encrypt-file");
            }
            return dataKey;
          },
        }),
      );
    });
}

interface EncryptOptions {
  key?: string;
  partition?: string;
  registry: string;
  context?: Record<string, string>;
  frameSize: number;
  force?: boolean;
  progress: boolean;
}

interface DecryptOptions {
  context?: Record<string, string>;
  partition?: string;
  registry: string;
  force?: boolean;
  progress: boolean;
}

interface FileDataKey {
  dataKey: Buffer;
  ciphertextBlob: string;
  context: Record<string, string>;
}

/** A fresh data key of `--key` (GenerateDataKey), bound to `--context`. */
async function freshDataKey(command: Command, options: EncryptOptions): Promise<FileDataKey> {
  const generated = await clientOf(command).call('GenerateDataKey', { KeyId: options.key, EncryptionContext: contextParam(options.context) });
  const dataKey = Buffer.from(String(generated.Plaintext ?? ''), 'base64');
  if (dataKey.length !== 32 || typeof generated.CiphertextBlob !== 'string') {
    dataKey.fill(0);
    throw new CliError(EXIT.REFUSED, 'GenerateDataKey did not return a 32-byte data key and a CiphertextBlob', 'InvalidResponse');
  }
  return { dataKey, ciphertextBlob: generated.CiphertextBlob, context: options.context ?? {} };
}

/**
 * A partition's data key (Decrypt of its registry entry), and the entry's blob and context for the
 * header: a producer that may only Decrypt can write files. Every file gets its own file key all
 * the same (HKDF with a random salt, see the client package's file-envelope/format.ts).
 */
async function partitionDataKey(command: Command, partitionId: string, registryUrl: string): Promise<FileDataKey> {
  const keys = openPartitionKeys({ ...connectionOf(command), registry: await registryOf(registryUrl) });
  try {
    const key = await keys.dataKey(partitionId);
    return { dataKey: key.plaintext, ciphertextBlob: key.ciphertextBlob, context: key.encryptionContext };
  } finally {
    keys.close();
  }
}

/** `--context` and `--partition` of decrypt-file: pairs the file's context must hold, before anything is decrypted. */
function requireContext(context: Readonly<Record<string, string>>, options: DecryptOptions): void {
  const required: Record<string, string> = { ...(options.context ?? {}) };
  if (options.partition !== undefined) required[PARTITION_CONTEXT_KEY] = options.partition;
  for (const [key, value] of Object.entries(required)) {
    if (!Object.hasOwn(context, key) || context[key] !== value) {
      throw new CliError(
        EXIT.FILE_AUTHENTICATION,
        `the file's EncryptionContext does not hold ${key}=${value}: it is not the file expected; no output was written`,
      );
    }
  }
}

/**
 * The data key of a partition file from the registry (its cached, registry-checked copy), or
 * undefined for a file that is not one of the registry's partitions (then the header's blob is
 * decrypted as for any file: the same Decrypt, with the same context). With `required` (decrypt-file
 * --partition), a file whose header's data key is not that partition's registry entry is refused:
 * anyone may write `partition=P` into a context, only the provider's key is P's.
 */
async function partitionKeyOf(
  command: Command,
  ciphertextBlob: string,
  context: Readonly<Record<string, string>>,
  registryUrl: string,
  required: boolean,
): Promise<Buffer | undefined> {
  const partitionId = Object.hasOwn(context, PARTITION_CONTEXT_KEY) ? context[PARTITION_CONTEXT_KEY] : undefined;
  if (partitionId === undefined) return undefined;
  const registry = await registryOf(registryUrl);
  const entry = required ? await registry.get(partitionId) : await registry.get(partitionId).catch(() => undefined);
  if (!entry || entry.ciphertextBlob !== ciphertextBlob) {
    if (required) {
      throw new CliError(
        EXIT.FILE_AUTHENTICATION,
        `the file's data key is not partition ${partitionId}'s in the registry ${registry.url}: it was not written with that partition's key; no output was written`,
      );
    }
    return undefined;
  }
  const keys = openPartitionKeys({ ...connectionOf(command), registry });
  try {
    return (await keys.dataKey(partitionId)).plaintext;
  } finally {
    keys.close();
  }
}

async function inputSize(path: string): Promise<number | undefined> {
  if (path === '-') return undefined;
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new CliError(EXIT.UNAVAILABLE, `${path} is a directory`);
    return s.isFile() ? s.size : undefined;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(EXIT.UNAVAILABLE, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function openInput(path: string): Readable {
  return path === '-' ? process.stdin : createReadStream(path, { highWaterMark: READ_CHUNK });
}
