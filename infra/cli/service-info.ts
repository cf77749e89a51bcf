import type { Command } from 'commander';
import { clientOf } from './common.js';
import { emit } from './output.js';

/** `kms random-password`, `kms regions`, `kms service`: GetRandomPassword, DescribeRegions, DescribeService. */
export function registerServiceInfo(program: Command): void {
  program
    .command('random-password')
    .description('a random password from the service (GetRandomPassword)')
    .option('--length <n>', 'characters, 8–128 (default 32)')
    .option('--exclude-characters <chars>', 'characters never to use')
    .option('--exclude-lowercase', 'no a–z')
    .option('--exclude-uppercase', 'no A–Z')
    .option('--exclude-numbers', 'no 0–9')
    .option('--exclude-punctuation', 'no punctuation')
    .option('--no-require-each-included-type', 'do not insist on one character of each included type')
    .action(async (options: Record<string, string | boolean | undefined>, command: Command) => {
      const params: Record<string, string> = {};
      if (options.length !== undefined) params.PasswordLength = String(options.length);
      if (options.excludeCharacters !== undefined) params.ExcludeCharacters = String(options.excludeCharacters);
      if (options.excludeLowercase) params.ExcludeLowercase = 'true';
      if (options.excludeUppercase) params.ExcludeUppercase = 'true';
      if (options.excludeNumbers) params.ExcludeNumbers = 'true';
      if (options.excludePunctuation) params.ExcludePunctuation = 'true';
      if (options.requireEachIncludedType === false) params.RequireEachIncludedType = 'false';
      emit(command, await clientOf(command).call('GetRandomPassword', params));
    });

  program
    .command('regions')
    .description('the regions this deployment serves (DescribeRegions)')
    .action(async (_options: unknown, command: Command) => {
      emit(command, await clientOf(command).call('DescribeRegions', {}));
    });

  program
    .command('service')
    .description('the key specs, usages and protection levels this deployment offers (DescribeService)')
    .action(async (_options: unknown, command: Command) => {
      emit(command, await clientOf(command).call('DescribeService', {}));
    });
}
