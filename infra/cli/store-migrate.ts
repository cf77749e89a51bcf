import { type Command, Option } from 'commander';
import { readStateConfig, SINGLE_INSTANCE } from '../../lib/config/service.js';
import { toolLogger } from '../../lib/logger.js';
import { migrateMaterial } from '../../lib/keystore/material-migration.js';
import { CliError, EXIT, usageError } from './exit-codes.js';
import { emit } from './output.js';
import { Progress } from './progress.js';

/**
 * `kms store migrate-material`: copies every key version's material from the per-version Secrets
 * Manager secrets of the earlier AWS layout (`KMS_SECRETS_PREFIX`) into the stage's DynamoDB
 * table, sealed under its root key (lib/keystore/material-migration.ts). Idempotent and
 * resumable; the service may keep running (it reads a version from its secret until the table
 * holds it). Secrets are deleted only with --delete-secrets, and then with a recovery window.
 */
export function registerMigrateMaterial(store: Command): void {
  store
    .command('migrate-material')
    .description(
      'copy key material from the per-version Secrets Manager secrets (KMS_SECRETS_PREFIX) into the sealed DynamoDB table (idempotent, resumable; verifies each value)',
    )
    .option('--no-progress', 'no progress bar (there is none unless stderr is a terminal)')
    .option('--delete-secrets', 'after a version is verified in the table, schedule its secret for deletion (restorable during the recovery window)')
    .addOption(
      new Option('--recovery-window-days <days>', 'the recovery window of deleted secrets (7–30)').default(30).argParser((text) => {
        const days = Number(text);
        if (!(/^\d+$/.test(text) && days >= 7 && days <= 30)) throw usageError(`--recovery-window-days takes 7 to 30, not "${text.slice(0, 20)}"`);
        return days;
      }),
    )
    .action(async (options: { deleteSecrets?: boolean; recoveryWindowDays: number; progress: boolean }, command: Command) => {
      // A tool is one process wherever it runs (on a Lambda's shell too).
      const state = readStateConfig({ ...process.env, [SINGLE_INSTANCE.name]: 'true' });
      if (state.keyStore !== 'dynamodb') throw usageError('migrate-material needs KMS_KEY_STORE=dynamodb, KMS_STATE_TABLE and the root key of the stage');
      const { legacyMaterial } = state.backend;
      if (!legacyMaterial) throw usageError('migrate-material needs KMS_SECRETS_PREFIX: the prefix of the secrets that hold the key material (e.g. kms/prod/)');
      const { openMaterialMigration } = await import('../../lib/keystore/dynamodb/dynamodb-backend.js');
      const opened = await openMaterialMigration({ ...state.backend, legacyMaterial }, toolLogger());
      const progress = new Progress('versions', undefined, options.progress, 'items');
      try {
        const report = await migrateMaterial({
          table: opened.table,
          secrets: opened.secrets,
          ...(options.deleteSecrets ? { deleteSecrets: { recoveryWindowDays: options.recoveryWindowDays } } : {}),
          onVersion: () => progress.advance(1),
        }).catch((err: unknown) => {
          progress.clear();
          throw err;
        });
        progress.finish();
        emit(command, {
          SecretsPrefix: opened.prefix,
          Versions: report.versions,
          Copied: report.copied,
          AlreadyPresent: report.present,
          SecretsDeleted: report.secretsDeleted,
          Missing: report.missing,
          Conflicts: report.conflicts,
        });
        if (report.conflicts.length > 0) {
          throw new CliError(
            EXIT.REFUSED,
            `${report.conflicts.length} version${report.conflicts.length === 1 ? "'s material differs" : "s' material differs"} between the table and its secret and was left as it is`,
            'StoreConflict',
          );
        }
      } finally {
        await opened.close();
      }
    });
}
