import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { addPagingOptions, allPages, clientOf, integer, type PagingOptions, emitListing } from './common.js';
import { CliError, EXIT, usageError } from './exit-codes.js';
import { emit } from './output.js';

/** The value options of `create` and `put`. */
interface ValueOptions {
  value?: string;
  valueFile?: string;
  binary?: boolean;
  versionId?: string;
}

/** A file's bytes; `-` is stdin. A file that cannot be read is "unavailable" (exit 3), as for the other file options. */
async function readValueFile(path: string): Promise<Buffer> {
  try {
    if (path === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
      return Buffer.concat(chunks);
    }
    return readFileSync(path);
  } catch (err) {
    throw new CliError(EXIT.UNAVAILABLE, `--value-file: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * `SecretData` and `SecretDataType` from --value or --value-file: text as it is (a file must be
 * UTF-8, taken byte for byte, a final newline included), or with --binary the file's bytes as
 * Base64. Never echoes the value in an error.
 */
async function secretDataOf(options: ValueOptions): Promise<{ SecretData: string; SecretDataType: 'text' | 'binary' }> {
  if ((options.value === undefined) === (options.valueFile === undefined)) throw usageError('give exactly one of --value and --value-file');
  if (options.binary && options.valueFile === undefined) throw usageError('--binary goes with --value-file (the bytes of a file or of stdin)');
  if (options.value !== undefined) {
    if (options.value === '') throw usageError('--value: the value is empty');
    return { SecretData: options.value, SecretDataType: 'text' };
  }
  const bytes = await readValueFile(options.valueFile!);
  try {
    if (bytes.length === 0) throw usageError(`--value-file: ${options.valueFile} is empty`);
    if (options.binary) return { SecretData: bytes.toString('base64'), SecretDataType: 'binary' };
    const text = bytes.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(bytes)) throw usageError(`--value-file: ${options.valueFile} is not UTF-8 text; use --binary for bytes`);
    return { SecretData: text, SecretDataType: 'text' };
  } finally {
    bytes.fill(0);
  }
}

const valueOption = () =>
  new Option('--value <text>', 'the value, as text (prefer --value-file: arguments show in ps and shell history)').conflicts('valueFile');
const valueFileOption = () => new Option('--value-file <file>', 'the value from a file, byte for byte (- for stdin)').conflicts('value');
const binaryOption = () => new Option('--binary', "with --value-file: the file's bytes, sent as Base64 (SecretDataType binary)");
const versionIdOption = () => new Option('--version-id <id>', 'the new version id (default: a new UUID)');

/** Writes a secret's value alone to stdout: text as it is, binary as the decoded bytes. */
function writeValue(answer: { SecretData?: string; SecretDataType?: string }): void {
  const data = answer.SecretData ?? '';
  const bytes = answer.SecretDataType === 'binary' ? Buffer.from(data, 'base64') : Buffer.from(data, 'utf8');
  process.stdout.write(bytes);
}

/**
 * `kms secrets …`: Generic secrets (CreateSecret, GetSecretValue, PutSecretValue, ListSecrets,
 * ListSecretVersionIds, DeleteSecret, RestoreSecret).
 */
export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description('secrets (Generic: versioned values sealed under a key)');

  secrets
    .command('create')
    .description('create a secret with its first version, ACSCurrent (CreateSecret)')
    .argument('<name>', 'the secret name')
    .addOption(valueOption())
    .addOption(valueFileOption())
    .addOption(binaryOption())
    .addOption(versionIdOption())
    .option('--key <key>', "seal it under this key: id, alias/<name> or ARN (default: the service's secrets key, alias/kms/secrets)")
    .option('--description <text>', 'a description')
    .action(async (name: string, options: ValueOptions & { key?: string; description?: string }, command: Command) => {
      const client = clientOf(command);
      const data = await secretDataOf(options);
      const result = await client.call('CreateSecret', {
        SecretName: name,
        VersionId: options.versionId ?? randomUUID(),
        ...data,
        EncryptionKeyId: options.key,
        Description: options.description,
      });
      emit(command, result);
    });

  secrets
    .command('get')
    .description("read a version's value (GetSecretValue): ACSCurrent unless --version-id or --stage")
    .argument('<name>', 'the secret name')
    .option('--version-id <id>', 'this version')
    .option('--stage <stage>', 'the version with this stage (ACSCurrent, ACSPrevious, …)')
    .option('--value-only', 'print only the value, byte for byte (binary: the decoded bytes), not the answer')
    .action(async (name: string, options: { versionId?: string; stage?: string; valueOnly?: boolean }, command: Command) => {
      type Answer = { SecretData?: string; SecretDataType?: string };
      const result = await clientOf(command).call<Answer>('GetSecretValue', { SecretName: name, VersionId: options.versionId, VersionStage: options.stage });
      if (options.valueOnly) writeValue(result);
      else emit(command, result);
    });

  secrets
    .command('put')
    .description('add a version (PutSecretValue): it becomes ACSCurrent (the former one ACSPrevious) unless --stages')
    .argument('<name>', 'the secret name')
    .addOption(valueOption())
    .addOption(valueFileOption())
    .addOption(binaryOption())
    .addOption(versionIdOption())
    .option('--stages <stages>', 'the new version\'s stages instead, comma-separated (e.g. "ACSCurrent,blue")')
    .action(async (name: string, options: ValueOptions & { stages?: string }, command: Command) => {
      const client = clientOf(command);
      let stages: string | undefined;
      if (options.stages !== undefined) {
        const list = options.stages.split(',').map((s) => s.trim());
        if (list.some((s) => s === '')) throw usageError('--stages: a comma-separated list of stage names, none empty');
        stages = JSON.stringify(list);
      }
      const data = await secretDataOf(options);
      const result = await client.call('PutSecretValue', { SecretName: name, VersionId: options.versionId ?? randomUUID(), ...data, VersionStages: stages });
      emit(command, result);
    });

  addPagingOptions(
    secrets
      .command('list')
      .description('list secrets, those pending deletion too (ListSecrets); every page unless --page or --page-size is given')
      .option('--tags', "fetch each secret's tags too (FetchTags)"),
  ).action(async (options: PagingOptions & { tags?: boolean }, command: Command) => {
    const client = clientOf(command);
    type Secret = { SecretName: string; SecretType: string; CreateTime: string; UpdateTime: string; PlannedDeleteTime?: string };
    type Page = { SecretList?: { Secret?: Secret[] }; TotalCount?: number; PageNumber?: number; PageSize?: number };
    const fetch = async (PageNumber: number, PageSize: number) => {
      const r = await client.call<Page>('ListSecrets', { PageNumber, PageSize, FetchTags: options.tags ? 'true' : undefined });
      return { items: r.SecretList?.Secret ?? [], total: Number(r.TotalCount ?? 0), response: r };
    };
    const columns = ['SecretName', 'CreateTime', 'UpdateTime', 'PlannedDeleteTime', ...(options.tags ? ['Tags'] : [])];
    await emitListing(command, options, 'Secrets', columns, fetch);
  });

  secrets
    .command('versions')
    .description("list a secret's versions with a stage, oldest first (ListSecretVersionIds, every page)")
    .argument('<name>', 'the secret name')
    .option('--include-deprecated', 'every kept version, those without a stage too (IncludeDeprecated)')
    .action(async (name: string, options: { includeDeprecated?: boolean }, command: Command) => {
      const client = clientOf(command);
      type Version = { VersionId: string; CreateTime: string; VersionStages?: { VersionStage?: string[] } };
      const items = await allPages(async (PageNumber, PageSize) => {
        const r = await client.call<{ VersionIds?: { VersionId?: Version[] }; TotalCount?: number }>('ListSecretVersionIds', {
          SecretName: name,
          IncludeDeprecated: options.includeDeprecated ? 'true' : undefined,
          PageNumber,
          PageSize,
        });
        return { items: r.VersionIds?.VersionId ?? [], total: Number(r.TotalCount ?? 0) };
      });
      const rows = items.map((v) => ({ VersionId: v.VersionId, CreateTime: v.CreateTime, VersionStages: v.VersionStages?.VersionStage ?? [] }));
      emit(command, { SecretName: name, Versions: rows, TotalCount: rows.length }, { rows, columns: ['VersionId', 'CreateTime', 'VersionStages'] });
    });

  secrets
    .command('delete')
    .description('schedule a secret for deletion after a recovery window, restorable until then, or destroy it now with --force (DeleteSecret)')
    .argument('<name>', 'the secret name')
    .addOption(new Option('--recovery-window-days <n>', 'the recovery window, 7–30 days (default 30)').argParser(integer(7, 30)).conflicts('force'))
    .addOption(new Option('--force', 'destroy it now, without recovery (ForceDeleteWithoutRecovery)').conflicts('recoveryWindowDays'))
    .action(async (name: string, options: { recoveryWindowDays?: number; force?: boolean }, command: Command) => {
      const result = await clientOf(command).call('DeleteSecret', {
        SecretName: name,
        RecoveryWindowInDays: options.recoveryWindowDays,
        ForceDeleteWithoutRecovery: options.force ? 'true' : undefined,
      });
      emit(command, result);
    });

  secrets
    .command('restore')
    .description('cancel a scheduled deletion within its window (RestoreSecret)')
    .argument('<name>', 'the secret name')
    .action(async (name: string, _options: unknown, command: Command) => {
      emit(command, await clientOf(command).call('RestoreSecret', { SecretName: name }));
    });
}
