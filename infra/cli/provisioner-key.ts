import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Command } from 'commander';
import { type AccessKeyRecord, AccessKeyRegistry, generateAccessKey, isAccessKeyId } from '../../lib/access-keys.js';
import { EntryExistsError, type KeyStore } from '../../lib/keystore/key-store.js';
import { type AliasRecord, decodeRecord, entryNames } from '../../lib/keyring/records.js';
import type { PolicyDocument } from '../../lib/policy/policy.js';
import { CliError, EXIT, usageError } from './exit-codes.js';
import { emit } from './output.js';
import { openStoreForCommand } from './store-access.js';

/** The policy of a partition-key provisioner: data keys without plaintext, under its one key, and nothing else. */
export function provisionerPolicy(keyId: string): PolicyDocument {
  return { Version: '1', Statement: [{ Effect: 'Allow', Action: ['kms:GenerateDataKeyWithoutPlaintext'], Resource: [`acs:kms:*:*:key/${keyId}`] }] };
}

interface Options {
  secret: string;
  key: string;
  id?: string;
}

/**
 * `kms access-keys create-provisioner --secret S --key K`: the AWS deployment's provisioner gets its
 * access key from the stage secret `kms/<stage>/provisioner`, which the stack creates empty. This
 * registers a new access key in the store with the provisioner's policy (GenerateDataKeyWithoutPlaintext
 * on the partition key only) and writes it into that secret (PutSecretValue, with the operator's own
 * AWS credentials). The secret is never printed. Run again to rotate: the provisioner takes the new
 * key when the old one is refused; then delete the old one (`kms access-keys delete`).
 */
export function registerCreateProvisioner(accessKeys: Command, dataDirOf: (command: Command) => string, secretsManager: () => SecretsManagerClient): void {
  accessKeys
    .command('create-provisioner')
    .description(
      "create the partition-key provisioner's access key (GenerateDataKeyWithoutPlaintext on --key only) and write it into its AWS Secrets Manager secret",
    )
    .requiredOption('--secret <id>', "the provisioner's secret: its name or ARN (the stack's kms/<stage>/provisioner)")
    .requiredOption('--key <key>', 'the partition key: its id or alias (alias/partitions), the key the data keys are generated under')
    .option('--id <id>', 'the access key id (8–64 letters and digits; default: a new LTAI… id)')
    .action(async (options: Options, command: Command) => {
      if (options.id !== undefined && !isAccessKeyId(options.id)) throw usageError(`access key id "${options.id}" must be 8–64 letters and digits`);
      if (!options.secret.trim()) throw usageError('--secret must name the secret');
      const store = await openStoreForCommand(dataDirOf(command));
      const keyId = await keyIdOf(store, options.key);
      const generated = generateAccessKey();
      const record: AccessKeyRecord = {
        accessKeyId: options.id ?? generated.accessKeyId,
        accessKeySecret: generated.accessKeySecret,
        status: 'Enabled',
        policy: provisionerPolicy(keyId),
        createdAt: new Date().toISOString(),
      };
      const registry = new AccessKeyRegistry(store, { cacheTtlMs: 0 });
      try {
        await registry.create(record);
      } catch (err) {
        if (err instanceof EntryExistsError)
          throw new CliError(EXIT.REFUSED, `The access key "${record.accessKeyId}" already exists.`, 'AccessKeyAlreadyExists');
        throw err;
      }
      let secretArn: string | undefined;
      try {
        const out = await secretsManager().send(
          new PutSecretValueCommand({
            SecretId: options.secret,
            SecretString: JSON.stringify({ accessKeyId: record.accessKeyId, accessKeySecret: record.accessKeySecret }),
          }),
        );
        secretArn = out.ARN;
      } catch (err) {
        // An access key nobody holds is taken back (a tombstone stays: its id is never reused).
        await registry.delete(record.accessKeyId).catch(() => undefined);
        throw new CliError(
          EXIT.UNAVAILABLE,
          `the secret ${options.secret} could not be written (${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? ''}); the access key ${record.accessKeyId} was deleted again`,
          'SecretNotWritten',
        );
      }
      emit(command, { AccessKeyId: record.accessKeyId, Secret: secretArn ?? options.secret, KeyId: keyId, Policy: record.policy });
    });
}

/** The key a --key names: a key id, or an alias, resolved in the store; one that does not exist is refused. */
async function keyIdOf(store: KeyStore, key: string): Promise<string> {
  if (key.startsWith('alias/')) {
    const entry = await store.get(entryNames.alias(key));
    if (!entry) throw new CliError(EXIT.REFUSED, `The alias "${key}" does not exist: create the partition key and its alias first.`, 'Forbidden.AliasNotFound');
    return decodeRecord<AliasRecord>(entry.value).keyId;
  }
  if (!(await store.get(entryNames.key(key)))) throw new CliError(EXIT.REFUSED, `The key "${key}" does not exist.`, 'Forbidden.KeyNotFound');
  return key;
}

/** Secrets Manager with the operator's own AWS credentials and region (the SDK's default chain). */
export const defaultSecretsManager = () => new SecretsManagerClient({});
