import type { Command } from 'commander';
import { addPagingOptions, clientOf, type PagingOptions, emitListing } from './common.js';
import { emit } from './output.js';

/** `kms aliases …`: CreateAlias, UpdateAlias, DeleteAlias, ListAliases / ListAliasesByKeyId. */
export function registerAliases(program: Command): void {
  const aliases = program.command('aliases').description('aliases (alias/<name>) of keys');

  aliases
    .command('create')
    .description('bind a new alias to a key (CreateAlias)')
    .argument('<alias>', 'alias/<name>')
    .argument('<key>', 'key id, alias/<name> or ARN')
    .action(async (alias: string, key: string, _options: unknown, command: Command) => {
      emit(command, await clientOf(command).call('CreateAlias', { AliasName: alias, KeyId: key }));
    });

  aliases
    .command('update')
    .description('rebind an existing alias to another key (UpdateAlias)')
    .argument('<alias>', 'alias/<name>')
    .argument('<key>', 'key id, alias/<name> or ARN')
    .action(async (alias: string, key: string, _options: unknown, command: Command) => {
      emit(command, await clientOf(command).call('UpdateAlias', { AliasName: alias, KeyId: key }));
    });

  aliases
    .command('delete')
    .description('remove an alias; the key is untouched (DeleteAlias)')
    .argument('<alias>', 'alias/<name>')
    .action(async (alias: string, _options: unknown, command: Command) => {
      emit(command, await clientOf(command).call('DeleteAlias', { AliasName: alias }));
    });

  addPagingOptions(
    aliases
      .command('list')
      .description('list aliases (ListAliases, or ListAliasesByKeyId with --key); every page unless --page or --page-size is given')
      .option('--key <key>', "only this key's aliases"),
  ).action(async (options: PagingOptions & { key?: string }, command: Command) => {
    const client = clientOf(command);
    type Alias = { AliasName: string; KeyId: string; AliasArn: string };
    type Page = { Aliases?: { Alias?: Alias[] }; TotalCount?: number; PageNumber?: number; PageSize?: number };
    const fetch = async (PageNumber: number, PageSize: number) => {
      const r =
        options.key === undefined
          ? await client.call<Page>('ListAliases', { PageNumber, PageSize })
          : await client.call<Page>('ListAliasesByKeyId', { KeyId: options.key, PageNumber, PageSize });
      return { items: r.Aliases?.Alias ?? [], total: Number(r.TotalCount ?? 0), response: r };
    };
    const columns = ['AliasName', 'KeyId', 'AliasArn'];
    await emitListing(command, options, 'Aliases', columns, fetch);
  });
}
