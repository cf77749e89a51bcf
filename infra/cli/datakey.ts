import { type Command, Option } from 'commander';
import { callWithDryRun, contextPair, contextParam, integer, publicKeyBlobOf } from './common.js';
import { emit } from './output.js';

interface GenerateOptions {
  key: string;
  context?: Record<string, string>;
  bytes?: number;
  spec?: 'AES_256' | 'AES_128';
  dryRun?: boolean;
}

const contextOption = () =>
  new Option('--context <key=value>', 'EncryptionContext pair, repeatable (the same pairs are needed to decrypt)').argParser(contextPair);

const publicKeyOption = () => new Option('--public-key <file>', "the recipient's RSA-2048 public key, PEM or DER").makeOptionMandatory();
const algorithmOption = () =>
  new Option('--algorithm <algorithm>', 'RSA-OAEP wrapping of the exported key')
    .choices(['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1'])
    .default('RSAES_OAEP_SHA_256');
const wrappingParams = (options: { publicKey: string; algorithm: string }) => ({
  PublicKeyBlob: publicKeyBlobOf(options.publicKey),
  WrappingAlgorithm: options.algorithm,
  WrappingKeySpec: 'RSA_2048',
});

/** `kms datakey …`: GenerateDataKey, GenerateDataKeyWithoutPlaintext, Decrypt, GenerateAndExportDataKey, ExportDataKey. */
export function registerDataKey(program: Command): void {
  const datakey = program.command('datakey').description('data keys for envelope encryption');

  for (const [name, action, description] of [
    ['generate', 'GenerateDataKey', 'a new data key: its Base64 Plaintext and its CiphertextBlob (GenerateDataKey)'],
    ['generate-without-plaintext', 'GenerateDataKeyWithoutPlaintext', 'a new data key, only its CiphertextBlob (GenerateDataKeyWithoutPlaintext)'],
  ] as const) {
    datakey
      .command(name)
      .description(description)
      .requiredOption('--key <key>', 'key id, alias/<name> or ARN')
      .addOption(contextOption())
      .addOption(new Option('--bytes <n>', 'data-key length in bytes, 1–1024').argParser(integer(1, 1024)).conflicts('spec'))
      .addOption(new Option('--spec <spec>', 'data-key spec (default AES_256: 32 bytes)').choices(['AES_256', 'AES_128']))
      .option('--dry-run', 'check parameters, permission and key state only')
      .action(async (options: GenerateOptions, command: Command) => {
        const result = await callWithDryRun(
          command,
          action,
          { KeyId: options.key, EncryptionContext: contextParam(options.context), NumberOfBytes: options.bytes, KeySpec: options.spec },
          options.dryRun,
        );
        emit(command, result);
      });
  }

  datakey
    .command('decrypt')
    .description('the Base64 Plaintext of a CiphertextBlob (Decrypt)')
    .requiredOption('--blob <blob>', 'the CiphertextBlob')
    .addOption(contextOption())
    .option('--dry-run', 'check parameters, permission and key state only')
    .action(async (options: { blob: string; context?: Record<string, string>; dryRun?: boolean }, command: Command) => {
      const result = await callWithDryRun(
        command,
        'Decrypt',
        { CiphertextBlob: options.blob, EncryptionContext: contextParam(options.context) },
        options.dryRun,
      );
      emit(command, result);
    });

  datakey
    .command('generate-and-export')
    .description('a new data key, wrapped under the CMK and under a public key; never its plaintext (GenerateAndExportDataKey)')
    .requiredOption('--key <key>', 'key id, alias/<name> or ARN')
    .addOption(publicKeyOption())
    .addOption(algorithmOption())
    .addOption(contextOption())
    .addOption(new Option('--bytes <n>', 'data-key length in bytes (at most 190 with SHA-256, 214 with SHA-1)').argParser(integer(1, 1024)).conflicts('spec'))
    .addOption(new Option('--spec <spec>', 'data-key spec (default AES_256: 32 bytes)').choices(['AES_256', 'AES_128']))
    .option('--dry-run', 'check parameters, permission and key state only')
    .action(async (options: GenerateOptions & { publicKey: string; algorithm: string }, command: Command) => {
      const result = await callWithDryRun(
        command,
        'GenerateAndExportDataKey',
        {
          KeyId: options.key,
          ...wrappingParams(options),
          EncryptionContext: contextParam(options.context),
          NumberOfBytes: options.bytes,
          KeySpec: options.spec,
        },
        options.dryRun,
      );
      emit(command, result);
    });

  datakey
    .command('export')
    .description('the data key of a CiphertextBlob, re-wrapped under a public key (ExportDataKey)')
    .requiredOption('--blob <blob>', 'the CiphertextBlob')
    .addOption(publicKeyOption())
    .addOption(algorithmOption())
    .addOption(contextOption())
    .option('--dry-run', 'check parameters, permission and key state only')
    .action(async (options: { blob: string; publicKey: string; algorithm: string; context?: Record<string, string>; dryRun?: boolean }, command: Command) => {
      const result = await callWithDryRun(
        command,
        'ExportDataKey',
        { CiphertextBlob: options.blob, ...wrappingParams(options), EncryptionContext: contextParam(options.context) },
        options.dryRun,
      );
      emit(command, result);
    });
}
