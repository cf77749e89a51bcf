import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Command } from 'commander';
import { type AccessKeyRecord, AccessKeyRegistry, generateAccessKey, isAccessKeyId } from '../../lib/access-keys.js';
import { alibabaSecretWriter } from '../../lib/keystore/alibaba-secrets.js';
import { EntryExistsError, type KeyStore } from '../../lib/keystore/key-store.js';
import { type AliasRecord, decodeRecord, entryNames } from '../../lib/keyring/records.js';
import type { PolicyDocument } from '../../lib/policy/policy.js';
import { type ProvisionerSecretSource, ProvisionerSecretSettingError, provisionerSecretSource } from '../../lib/provisioner/secret-source.js';
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
 * `kms access-keys create-provisioner --secret S --key K`: the provisioner gets its access key from
 * a managed secret the deployment creates empty — on AWS the stage secret `kms/<stage>/provisioner-key`
 * (Secrets Manager), on Function Compute the Alibaba Cloud KMS secret given to the deployment. `S`
 * names it as `KMS_PROVISIONER_SECRET` does: `aws-secrets-manager:<id>`, `alibaba-kms-secret:<name>`,
 * or a bare Secrets Manager name or ARN. This registers a new access key in the store with the
 * provisioner's policy (GenerateDataKeyWithoutPlaintext on the partition key only) and writes it into
 * that secret (PutSecretValue, with the operator's own credentials: the AWS SDK's default chain, or
 * ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET and ALIBABA_CLOUD_REGION; on Alibaba the new version's id is
 * the access key id). The secret is never printed. Run again to rotate: the provisioner takes the
 * new key when the old one is refused; then delete the old one (`kms access-keys delete`).
 */
export function registerCreateProvisioner(
  accessKeys: Command,
  dataDirOf: (command: Command) => string,
  secretsManager: () => SecretsManagerClient,
  env: NodeJS.ProcessEnv = process.env,
): void {
  accessKeys
    .command('create-provisioner')
    .description(
      "create the partition-key provisioner's access key (GenerateDataKeyWithoutPlaintext on --key only) and write it into its secret (AWS Secrets Manager or Alibaba Cloud KMS)",
    )
    .requiredOption(
      '--secret <secret>',
      "the provisioner's secret, as KMS_PROVISIONER_SECRET names it: aws-secrets-manager:<name or ARN> (or the name or ARN alone: the AWS stack's kms/<stage>/provisioner-key), or alibaba-kms-secret:<name> (Function Compute)",
    )
    .requiredOption('--key <key>', 'the partition key: its id or alias (alias/partitions), the key the data keys are generated under')
    .option('--id <id>', 'the access key id (8–64 letters and digits; default: a new LTAI… id)')
    .action(async (options: Options, command: Command) => {
      if (options.id !== undefined && !isAccessKeyId(options.id)) throw usageError(`access key id "${options.id}" must be 8–64 letters and digits`);
      const source = secretSourceOf(options.secret);
      // Credentials are checked before anything is registered.
      const write = await secretWriter(source, secretsManager, env);
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
      let written: string | undefined;
      try {
        written = await write(JSON.stringify({ accessKeyId: record.accessKeyId, accessKeySecret: record.accessKeySecret }), record.accessKeyId);
      } catch (err) {
        // An access key nobody holds is taken back (a tombstone stays: its id is never reused).
        await registry.delete(record.accessKeyId).catch(() => undefined);
        throw new CliError(
          EXIT.UNAVAILABLE,
          `the secret ${options.secret} could not be written (${errorCodeOf(err)}: ${(err as Error)?.message ?? ''}); the access key ${record.accessKeyId} was deleted again`,
          'SecretNotWritten',
        );
      }
      emit(command, { AccessKeyId: record.accessKeyId, Secret: written ?? options.secret, KeyId: keyId, Policy: record.policy });
    });
}

function secretSourceOf(secret: string): ProvisionerSecretSource {
  try {
    return provisionerSecretSource(secret);
  } catch (err) {
    if (err instanceof ProvisionerSecretSettingError) throw usageError(`--secret: ${err.message}`);
    throw err;
  }
}

/** Writes the secret's new value; answers what names it (the ARN Secrets Manager answers), if anything. */
type SecretWrite = (value: string, versionId: string) => Promise<string | undefined>;

async function secretWriter(source: ProvisionerSecretSource, secretsManager: () => SecretsManagerClient, env: NodeJS.ProcessEnv): Promise<SecretWrite> {
  if (source.kind === 'aws-secrets-manager') {
    return async (value) => (await secretsManager().send(new PutSecretValueCommand({ SecretId: source.id, SecretString: value }))).ARN;
  }
  let put: Awaited<ReturnType<typeof alibabaSecretWriter>>;
  try {
    put = await alibabaSecretWriter(env, { purpose: '--secret alibaba-kms-secret:…', timeouts: { connectMs: 5_000, readMs: 15_000 } });
  } catch (err) {
    throw usageError((err as Error).message);
  }
  return async (value, versionId) => {
    await put(source.id, value, versionId);
    return undefined;
  };
}

/** The code a failed write names: the Alibaba SDK's `code`, or the AWS SDK's exception name. */
function errorCodeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : ((err as Error)?.name ?? 'Error');
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
