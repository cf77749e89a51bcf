import { type Command, Option } from 'commander';
import { addPagingOptions, allPages, clientOf, integer, type PagingOptions, emitListing } from './common.js';
import { usageError } from './exit-codes.js';
import { registerKeyImport } from './key-import.js';
import { emit } from './output.js';

/** `kms keys …`: customer master keys (CreateKey, DescribeKey, ListKeys, key versions, state, deletion). */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('customer master keys');

  keys
    .command('create')
    .description('create a key (CreateKey): Aliyun_AES_256 unless --key-spec says otherwise, one new version (or, with --external, material you import)')
    .option('--key-spec <spec>', 'Aliyun_AES_256 (default), RSA_2048, RSA_3072, RSA_4096, EC_P256, EC_P256K, EC_P384, EC_P521, HMAC_224/256/384/512')
    .option('--key-usage <usage>', 'ENCRYPT/DECRYPT or SIGN/VERIFY (default: SIGN/VERIFY for RSA and EC keys, as on Alibaba)')
    .option('--description <text>', 'a description')
    .option('--rotation-interval <interval>', 'turn on automatic rotation every <interval> (7d–730d, or seconds as 604800s)')
    .option('--tag <TagKey=TagValue>', 'a tag for the new key, repeatable', (pair: string, previous: string[] = []) => [...previous, pair])
    .addOption(new Option('--external', 'bring your own key: no material until `kms keys import-material` (Origin EXTERNAL)').conflicts('rotationInterval'))
    .action(
      async (
        options: { keySpec?: string; keyUsage?: string; description?: string; rotationInterval?: string; tag?: string[]; external?: boolean },
        command: Command,
      ) => {
        const result = await clientOf(command).call('CreateKey', {
          KeySpec: options.keySpec,
          KeyUsage: options.keyUsage,
          Origin: options.external ? 'EXTERNAL' : undefined,
          Description: options.description,
          EnableAutomaticRotation: options.rotationInterval === undefined ? undefined : 'true',
          RotationInterval: options.rotationInterval,
          Tags: options.tag ? tagsParam(options.tag) : undefined,
        });
        emit(command, result, { record: result.KeyMetadata });
      },
    );

  keys
    .command('describe')
    .description('show a key (DescribeKey)')
    .argument('<key>', 'key id, alias/<name> or ARN')
    .action(async (key: string, _options: unknown, command: Command) => {
      const result = await clientOf(command).call('DescribeKey', { KeyId: key });
      emit(command, result, { record: result.KeyMetadata });
    });

  addPagingOptions(keys.command('list').description('list keys (ListKeys); every page unless --page or --page-size is given')).action(
    async (options: PagingOptions, command: Command) => {
      const client = clientOf(command);
      type Key = { KeyId: string; KeyArn: string };
      type Page = { Keys?: { Key?: Key[] }; TotalCount?: number; PageNumber?: number; PageSize?: number };
      const fetch = async (PageNumber: number, PageSize: number) => {
        const r = await client.call<Page>('ListKeys', { PageNumber, PageSize });
        return { items: r.Keys?.Key ?? [], total: Number(r.TotalCount ?? 0), response: r };
      };
      await emitListing(command, options, 'Keys', ['KeyId', 'KeyArn'], fetch);
    },
  );

  keys
    .command('rotate')
    .description('create a new primary version of a key (CreateKeyVersion); older versions keep decrypting')
    .argument('<key>', 'key id, alias/<name> or ARN')
    .action(async (key: string, _options: unknown, command: Command) => {
      const result = await clientOf(command).call('CreateKeyVersion', { KeyId: key });
      emit(command, result, { record: result.KeyVersion });
    });

  keys
    .command('versions')
    .description("list a key's versions, oldest first (ListKeyVersions, every page)")
    .argument('<key>', 'key id, alias/<name> or ARN')
    .action(async (key: string, _options: unknown, command: Command) => {
      const client = clientOf(command);
      type Version = { KeyId: string; KeyVersionId: string; CreationDate: string };
      const items = await allPages(async (PageNumber, PageSize) => {
        const r = await client.call<{ KeyVersions?: { KeyVersion?: Version[] }; TotalCount?: number }>('ListKeyVersions', { KeyId: key, PageNumber, PageSize });
        return { items: r.KeyVersions?.KeyVersion ?? [], total: Number(r.TotalCount ?? 0) };
      });
      emit(command, { KeyVersions: items, TotalCount: items.length }, { rows: items, columns: ['KeyVersionId', 'CreationDate', 'KeyId'] });
    });

  keys
    .command('set-rotation')
    .description('turn automatic rotation on or off (UpdateRotationPolicy)')
    .argument('<key>', 'key id, alias/<name> or ARN')
    .addOption(new Option('--enable', 'rotate automatically').conflicts('disable'))
    .addOption(new Option('--disable', 'stop rotating automatically').conflicts('enable'))
    .option('--interval <interval>', 'with --enable: 7d–730d, or seconds as 604800s')
    .action(async (key: string, options: { enable?: boolean; disable?: boolean; interval?: string }, command: Command) => {
      if (!options.enable && !options.disable) throw usageError('give --enable or --disable');
      const result = await clientOf(command).call('UpdateRotationPolicy', {
        KeyId: key,
        EnableAutomaticRotation: options.enable ? 'true' : 'false',
        RotationInterval: options.interval,
      });
      emit(command, result);
    });

  for (const [name, action, description] of [
    ['enable', 'EnableKey', 'enable a key (EnableKey)'],
    ['disable', 'DisableKey', 'disable a key (DisableKey): every cryptographic call with it is refused'],
    ['cancel-deletion', 'CancelKeyDeletion', 'cancel a scheduled deletion (CancelKeyDeletion)'],
    ['delete-material', 'DeleteKeyMaterial', "delete an EXTERNAL key's imported material; the key waits for the same material (DeleteKeyMaterial)"],
  ] as const) {
    keys
      .command(name)
      .description(description)
      .argument('<key>', 'key id, alias/<name> or ARN')
      .action(async (key: string, _options: unknown, command: Command) => {
        emit(command, await clientOf(command).call(action, { KeyId: key }));
      });
  }

  keys
    .command('set-description')
    .description("replace a key's description; '' clears it (UpdateKeyDescription)")
    .argument('<key>', 'key id, alias/<name> or ARN')
    .argument('<description>', 'the new description')
    .action(async (key: string, description: string, _options: unknown, command: Command) => {
      emit(command, await clientOf(command).call('UpdateKeyDescription', { KeyId: key, Description: description }));
    });

  keys
    .command('set-deletion-protection')
    .description('turn deletion protection on or off (SetDeletionProtection): a protected key cannot be scheduled for deletion')
    .argument('<key>', 'key id, alias/<name> or ARN')
    .addOption(new Option('--enable', 'protect the key').conflicts('disable'))
    .addOption(new Option('--disable', 'remove the protection').conflicts('enable'))
    .option('--description <text>', 'with --enable: why the key is protected')
    .action(async (key: string, options: { enable?: boolean; disable?: boolean; description?: string }, command: Command) => {
      if (!options.enable && !options.disable) throw usageError('give --enable or --disable');
      emit(
        command,
        await clientOf(command).call('SetDeletionProtection', {
          KeyId: key,
          EnableDeletionProtection: options.enable ? 'true' : 'false',
          DeletionProtectionDescription: options.enable ? options.description : undefined,
        }),
      );
    });

  keys
    .command('tag')
    .description('add tags to a key, or change their values (TagResource)')
    .argument('<key>', 'key id, alias/<name> or ARN')
    .argument('<tags...>', 'TagKey=TagValue …')
    .action(async (key: string, pairs: string[], _options: unknown, command: Command) => {
      emit(command, await clientOf(command).call('TagResource', { KeyId: key, Tags: tagsParam(pairs) }));
    });

  keys
    .command('untag')
    .description('remove tags from a key (UntagResource)')
    .argument('<key>', 'key id, alias/<name> or ARN')
    .argument('<tagKeys...>', 'TagKey …')
    .action(async (key: string, tagKeys: string[], _options: unknown, command: Command) => {
      emit(command, await clientOf(command).call('UntagResource', { KeyId: key, TagKeys: JSON.stringify(tagKeys) }));
    });

  keys
    .command('tags')
    .description("list a key's tags (ListResourceTags)")
    .argument('<key>', 'key id, alias/<name> or ARN')
    .action(async (key: string, _options: unknown, command: Command) => {
      const result = await clientOf(command).call<{ Tags?: { Tag?: Array<Record<string, string>> } }>('ListResourceTags', { KeyId: key });
      const rows = result.Tags?.Tag ?? [];
      emit(command, result, { rows, columns: ['TagKey', 'TagValue', 'KeyId'] });
    });

  keys
    .command('schedule-deletion')
    .description('schedule a key for deletion (ScheduleKeyDeletion): refused for every call at once, material destroyed after the window')
    .argument('<key>', 'key id, alias/<name> or ARN')
    .requiredOption('--days <n>', 'the pending window, 7–366 days', integer(7, 366))
    .action(async (key: string, options: { days: number }, command: Command) => {
      emit(command, await clientOf(command).call('ScheduleKeyDeletion', { KeyId: key, PendingWindowInDays: options.days }));
    });

  registerKeyImport(keys);
}

/** `TagKey=TagValue` arguments as the `Tags` JSON list the API takes. */
function tagsParam(pairs: readonly string[]): string {
  const tags = pairs.map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 1) throw usageError(`a tag is TagKey=TagValue, not "${pair}"`);
    return { TagKey: pair.slice(0, eq), TagValue: pair.slice(eq + 1) };
  });
  return JSON.stringify(tags);
}
