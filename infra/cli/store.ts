import { type Command, Option } from 'commander';
import { copyStore } from '../../lib/keystore/copy-store.js';
import { defaultOf } from '../../lib/config/variable.js';
import { DATA_DIR } from '../../lib/keystore/config.js';
import { CliError, EXIT, usageError } from './exit-codes.js';
import { emit } from './output.js';
import { openStoreForCommand } from './store-access.js';
import { registerMigrateMaterial } from './store-migrate.js';

/** Variables `--to` may set: the store's own, and the clouds' credentials and regions. */
const TARGET_VARIABLE = /^(KMS|AWS|ALIBABA_CLOUD)_[A-Z0-9_]+$/;

/**
 * `kms store copy`: copies every entry of the store the environment selects (or the file store at
 * --data-dir) into another, described by `--to NAME=value` over the same environment. The way from
 * one backend to another: the file store to PostgreSQL when one machine becomes a cluster, or an
 * AWS stage's Secrets Manager store to DynamoDB (then `kms store migrate-material` moves its key
 * material into the table). Idempotent; run it with the service stopped.
 */
export function registerStore(program: Command): void {
  const store = program.command('store').description('the key store itself');
  store
    .command('copy')
    .description('copy every key, version, alias and access key into another store (idempotent; stop the service first)')
    .addOption(
      new Option('--data-dir <dir>', 'the source file store, when KMS_KEY_STORE does not name another').env('KMS_DATA_DIR').default(defaultOf(DATA_DIR)),
    )
    .requiredOption('--to <NAME=value...>', 'the target store: KMS_KEY_STORE=… and its variables, over the current environment')
    .action(async (options: { dataDir: string; to: string[] }, command: Command) => {
      const overrides: Record<string, string> = {};
      for (const pair of options.to) {
        const eq = pair.indexOf('=');
        const name = eq > 0 ? pair.slice(0, eq) : '';
        if (!TARGET_VARIABLE.test(name)) throw usageError(`--to takes NAME=value with a KMS_, AWS_ or ALIBABA_CLOUD_ variable, not "${pair.slice(0, 40)}"`);
        overrides[name] = pair.slice(eq + 1);
      }
      if (!overrides.KMS_KEY_STORE) throw usageError('--to must name the target backend: --to KMS_KEY_STORE=file|postgres|dynamodb|secrets-manager');
      const source = await openStoreForCommand(options.dataDir);
      // The target is usually new: the copy is what fills it (the source must exist).
      const target = await openStoreForCommand(overrides.KMS_DATA_DIR ?? options.dataDir, { ...process.env, ...overrides }, 'always');
      const report = await copyStore(source, target);
      emit(command, { Copied: report.copied, AlreadyPresent: report.present, Conflicts: report.conflicts });
      if (report.conflicts.length > 0) {
        throw new CliError(
          EXIT.REFUSED,
          `${report.conflicts.length} entr${report.conflicts.length === 1 ? 'y differs' : 'ies differ'} in the target and ${report.conflicts.length === 1 ? 'was' : 'were'} left as they are`,
          'StoreConflict',
        );
      }
    });
  store
    .command('seal')
    .description('seal in place the values a store of an earlier release holds in the clear (once, as an operator with the root key; idempotent)')
    .addOption(new Option('--data-dir <dir>', 'the file store, when KMS_KEY_STORE does not name another').env('KMS_DATA_DIR').default(defaultOf(DATA_DIR)))
    .action(async (options: { dataDir: string }, command: Command) => {
      // Opening with sealInPlace seals every value still in the clear, then records that all are.
      await openStoreForCommand(options.dataDir, process.env, 'never', { sealInPlace: true });
      emit(command, { Sealed: true });
    });
  registerMigrateMaterial(store);
}
