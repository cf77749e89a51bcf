import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { clientOf } from './common.js';
import { usageError } from './exit-codes.js';
import { IMPORT_WRAPPING_ALGORITHMS, type ImportWrappingAlgorithm, wrapMaterial } from '../../lib/crypto/import-wrap.js';
import { emit } from './output.js';

const algorithmOption = () =>
  new Option('--algorithm <algorithm>', 'how the material is wrapped').choices([...IMPORT_WRAPPING_ALGORITHMS]).default('RSAES_OAEP_SHA_256');

/** `--expires`: an ISO-8601 date-time with a zone, or Unix seconds; the API takes Unix seconds. */
function expiry(value: string): number {
  const seconds = /^\d+$/.test(value) ? Number(value) : Date.parse(value) / 1000;
  if (!Number.isSafeInteger(Math.floor(seconds)) || seconds <= 0 || (!/^\d+$/.test(value) && !/(Z|[+-]\d{2}:\d{2})$/.test(value))) {
    throw new InvalidArgumentError('expected Unix seconds or an ISO-8601 date-time with a zone (2027-01-01T00:00:00Z).');
  }
  return Math.floor(seconds);
}

/** The 32 raw bytes of a material file (as `openssl rand -out material.bin 32` writes it). */
function readMaterial(path: string): Buffer {
  let material: Buffer;
  try {
    material = readFileSync(path);
  } catch (err) {
    throw usageError(`--material: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (material.length !== 32) {
    material.fill(0);
    throw usageError(`--material: ${path} must hold exactly 32 bytes of key material (it has ${material.length})`);
  }
  return material;
}

/** `kms keys import-params | import-material`: bring your own key material (`delete-material` is in ./keys.ts). */
export function registerKeyImport(keys: Command): void {
  keys
    .command('import-params')
    .description('a public key and an import token for an EXTERNAL key, to wrap material elsewhere (GetParametersForImport)')
    .argument('<key>', 'key id, alias/<name> or ARN')
    .addOption(algorithmOption())
    .action(async (key: string, options: { algorithm: ImportWrappingAlgorithm }, command: Command) => {
      emit(command, await clientOf(command).call('GetParametersForImport', { KeyId: key, WrappingAlgorithm: options.algorithm, WrappingKeySpec: 'RSA_2048' }));
    });

  keys
    .command('import-material')
    .description(
      'import 32 bytes of key material into an EXTERNAL key: fetches a public key and token, wraps the material here, imports it (ImportKeyMaterial)',
    )
    .argument('<key>', 'key id, alias/<name> or ARN')
    .requiredOption('--material <file>', 'a file of exactly 32 raw bytes (e.g. openssl rand -out material.bin 32)')
    .addOption(algorithmOption())
    .addOption(new Option('--expires <when>', 'when the material expires: Unix seconds or ISO-8601 (default: never)').argParser(expiry))
    .action(async (key: string, options: { material: string; algorithm: ImportWrappingAlgorithm; expires?: number }, command: Command) => {
      const client = clientOf(command);
      const material = readMaterial(options.material);
      try {
        const parameters = await client.call<{ ImportToken: string; PublicKey: string }>('GetParametersForImport', {
          KeyId: key,
          WrappingAlgorithm: options.algorithm,
          WrappingKeySpec: 'RSA_2048',
        });
        const result = await client.call('ImportKeyMaterial', {
          KeyId: key,
          ImportToken: parameters.ImportToken,
          EncryptedKeyMaterial: wrapMaterial(parameters.PublicKey, options.algorithm, material),
          KeyMaterialExpireUnix: options.expires,
        });
        emit(command, result);
      } finally {
        material.fill(0);
      }
    });
}
