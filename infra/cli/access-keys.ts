import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { type AccessKeyRecord, AccessKeyRegistry, generateAccessKey, isAccessKeyId } from '../../lib/access-keys.js';
import { EntryExistsError } from '../../lib/keystore/key-store.js';
import { ADMIN_POLICY, describePolicyIssues, type PolicyDocument, policyDocumentSchema } from '../../lib/policy/policy.js';
import { defaultOf } from '../../lib/config/variable.js';
import { DATA_DIR } from '../../lib/keystore/config.js';
import { CliError, EXIT, usageError } from './exit-codes.js';
import { emit } from './output.js';
import { type GroupRates, groupRatesSchema } from '../../lib/ratelimit/limits.js';
import { defaultSecretsManager, registerCreateProvisioner } from './provisioner-key.js';
import { openStoreForCommand, type StoreCreation } from './store-access.js';

interface StoreOptions {
  dataDir: string;
}

interface PolicyOptions {
  policy?: string;
  policyJson?: string;
  admin?: boolean;
}

/**
 * `kms access-keys …`: the access keys and their policies, over the key store the gateway uses
 * (the file store at --data-dir / KMS_DATA_DIR, or with KMS_KEY_STORE=postgres, dynamodb or
 * secrets-manager a deployment's shared store), not over the API. Every write is a
 * compare-and-swap on the store, so the CLI and a running gateway never lose each other's updates;
 * a change moves the store's change marker, so a running gateway answers its next request with it
 * (Secrets Manager, which keeps no marker: once the gateway's caches expire).
 */
export function registerAccessKeys(program: Command): void {
  const accessKeys = program
    .command('access-keys')
    .description('access keys and their policies, in the key store itself, not over the API (the local one, or the one KMS_KEY_STORE names)')
    .addOption(new Option('--data-dir <dir>', 'the key store directory').env('KMS_DATA_DIR').default(defaultOf(DATA_DIR)));

  const policyOptions = (command: Command) =>
    command
      .addOption(new Option('--policy <file>', 'the policy document, a JSON file').conflicts(['policyJson', 'admin']))
      .addOption(new Option('--policy-json <json>', 'the policy document, inline').conflicts(['policy', 'admin']))
      .addOption(new Option('--admin', 'the admin policy: kms:* on *').conflicts(['policy', 'policyJson']));

  policyOptions(
    accessKeys
      .command('create')
      .description('create an access key; its secret is printed this once and never again')
      .option('--id <id>', 'the access key id (8–64 letters and digits; default: a new LTAI… id)')
      .option('--create-store', 'where there is no key store yet, start one (a new root key) with this key in it; without it, a missing store is refused'),
  ).action(async (options: PolicyOptions & { id?: string; createStore?: boolean }, command: Command) => {
    const policy = await policyFrom(options);
    if (options.id !== undefined && !isAccessKeyId(options.id)) throw usageError(`access key id "${options.id}" must be 8–64 letters and digits`);
    const generated = generateAccessKey();
    const record: AccessKeyRecord = {
      accessKeyId: options.id ?? generated.accessKeyId,
      accessKeySecret: generated.accessKeySecret,
      status: 'Enabled',
      policy,
      createdAt: new Date().toISOString(),
    };
    try {
      await (await registryOf(command, { flag: options.createStore === true })).create(record);
    } catch (err) {
      if (err instanceof EntryExistsError) throw new CliError(EXIT.REFUSED, `The access key "${record.accessKeyId}" already exists.`, 'AccessKeyAlreadyExists');
      throw err;
    }
    emit(command, view(record, true));
    if (process.stderr.isTTY) process.stderr.write('The secret is shown only this once: store it now.\n');
  });

  accessKeys
    .command('list')
    .description('list access keys: id, status, creation date, policy (never secrets)')
    .action(async (_options: unknown, command: Command) => {
      const registry = await registryOf(command);
      const records: AccessKeyRecord[] = [];
      for (const id of await registry.list()) {
        const record = await registry.get(id);
        if (record) records.push(record);
      }
      const items = records.map((r) => view(r, false));
      emit(
        command,
        { AccessKeys: items, TotalCount: items.length },
        {
          rows: items.map((item) => ({ ...item, Policy: policySummary(item) })),
          columns: ['AccessKeyId', 'Status', 'CreatedAt', 'Policy'],
        },
      );
    });

  accessKeys
    .command('describe')
    .description('show one access key and its policy (never its secret)')
    .argument('<id>', 'access key id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const record = await (await registryOf(command)).get(id);
      if (!record) throw notFound(id);
      const item = view(record, false);
      emit(command, item);
    });

  for (const [name, status] of [
    ['enable', 'Enabled'],
    ['disable', 'Disabled'],
  ] as const) {
    accessKeys
      .command(name)
      .description(`${name} an access key${status === 'Disabled' ? ' (its requests get InvalidAccessKeyId.Inactive)' : ''}`)
      .argument('<id>', 'access key id')
      .action(async (id: string, _options: unknown, command: Command) => {
        const record = await (await registryOf(command)).setStatus(id, status);
        emit(command, view(record, false));
      });
  }

  accessKeys
    .command('delete')
    .description('delete an access key (its requests get InvalidAccessKeyId.NotFound)')
    .argument('<id>', 'access key id')
    .action(async (id: string, _options: unknown, command: Command) => {
      await (await registryOf(command)).delete(id);
      emit(command, { AccessKeyId: id, Deleted: true });
    });

  policyOptions(accessKeys.command('set-policy').description("replace an access key's policy").argument('<id>', 'access key id')).action(
    async (id: string, options: PolicyOptions, command: Command) => {
      const policy = await policyFrom(options);
      const record = await (await registryOf(command)).setPolicy(id, policy);
      emit(command, view(record, false));
    },
  );

  accessKeys
    .command('set-rate-limits')
    .description(
      'set an access key\'s own rate limits, requests per second by group (crypto, read, write, secrets-read, secrets-write, secrets-lifecycle, secrets-list): {"crypto": 5, "read": 10, "write": 1}; {} removes them',
    )
    .argument('<id>', 'access key id')
    .requiredOption('--json <limits>', 'the limits, JSON: any of crypto, read, write')
    .action(async (id: string, options: { json: string }, command: Command) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(options.json);
      } catch {
        throw usageError('--json must be JSON, e.g. {"crypto": 5}');
      }
      const checked = groupRatesSchema.safeParse(parsed);
      if (!checked.success) throw usageError(`--json: ${checked.error.issues.map((i) => `${i.path.join('.') || 'limits'}: ${i.message}`).join('; ')}`);
      const record = await (await registryOf(command)).setRateLimits(id, checked.data as GroupRates);
      emit(command, view(record, false));
    });

  registerCreateProvisioner(accessKeys, (command) => command.optsWithGlobals<StoreOptions>().dataDir, defaultSecretsManager);
}

/**
 * The registry over the store the environment selects: the file store at --data-dir, or with
 * KMS_KEY_STORE=postgres, dynamodb or secrets-manager that deployment's store (with its usual
 * variables and credentials), so operators administer a deployed stage's access keys the same way.
 * A store that does not exist is refused (a mistyped --data-dir is an error, not an empty list or a
 * new store), unless `create --create-store`.
 */
async function registryOf(command: Command, creation: StoreCreation = 'never'): Promise<AccessKeyRegistry> {
  const { dataDir } = command.optsWithGlobals<StoreOptions>();
  // The CLI writes and exits: nothing to cache.
  return new AccessKeyRegistry(await openStoreForCommand(dataDir, process.env, creation), { cacheTtlMs: 0 });
}

function notFound(id: string): CliError {
  return new CliError(EXIT.REFUSED, `The access key "${id}" does not exist.`, 'InvalidAccessKeyId.NotFound');
}

/**
 * What the CLI shows of an access key: the secret only right after `create`; `PolicyError` when
 * the stored policy no longer validates (the key is then denied everything until set-policy).
 */
function view(record: AccessKeyRecord, withSecret: boolean) {
  return {
    AccessKeyId: record.accessKeyId,
    ...(withSecret ? { AccessKeySecret: record.accessKeySecret } : {}),
    Status: record.status,
    CreatedAt: record.createdAt,
    Policy: record.policy,
    ...(record.policyError !== undefined ? { PolicyError: record.policyError } : {}),
    ...(record.rateLimits !== undefined ? { RateLimits: record.rateLimits } : {}),
  };
}

/**
 * A one-line summary of a policy for the table view: `Allow kms:Decrypt on acs:kms:*:*:key/* if
 * StringLike kms:EncryptionContext:partition; …`, or why an invalid stored one denies everything.
 */
function policySummary(item: ReturnType<typeof view>): string {
  if (item.PolicyError !== undefined) return `INVALID (denies everything): ${item.PolicyError}`;
  const list = (v: string | string[]) => (Array.isArray(v) ? v.join(',') : v);
  const condition = (c: PolicyDocument['Statement'][number]['Condition']) =>
    c === undefined
      ? ''
      : ` if ${Object.entries(c)
          .flatMap(([operator, keys]) => Object.keys(keys).map((key) => `${operator} ${key}`))
          .join(' and ')}`;
  return item.Policy.Statement.map((s) => `${s.Effect} ${list(s.Action)} on ${list(s.Resource)}${condition(s.Condition)}`).join('; ');
}

/** The policy given by --policy FILE, --policy-json JSON or --admin, validated. */
async function policyFrom(options: PolicyOptions): Promise<PolicyDocument> {
  if (options.admin) return ADMIN_POLICY;
  let text: string;
  let source: string;
  if (options.policy !== undefined) {
    source = options.policy;
    try {
      text = await readFile(options.policy, 'utf8');
    } catch (err) {
      throw new CliError(EXIT.UNAVAILABLE, `cannot read the policy file ${options.policy}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  } else if (options.policyJson !== undefined) {
    source = '--policy-json';
    text = options.policyJson;
  } else {
    throw usageError('give the policy: --policy FILE, --policy-json JSON or --admin');
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw usageError(`the policy in ${source} is not valid JSON`);
  }
  const parsed = policyDocumentSchema.safeParse(document);
  if (!parsed.success) throw usageError(`the policy in ${source} is not valid: ${describePolicyIssues(parsed.error)}`);
  return parsed.data;
}
