import { runKmsHere } from '../helpers/cli-in-process.js';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../infra/cli/program.js';
import { EXIT } from '../../infra/cli/exit-codes.js';

/*
 * Help comes from the command table: every group's help lists exactly the subcommands registered
 * (none that does not exist, none left out), each listed one answers `--help`, and the summary a
 * group shows in its parent's help names the same subcommands.
 */

/** Every command with subcommands, with its path from the root (the root itself is []). */
function groups(command: Command, path: string[] = []): Array<{ path: string[]; group: Command }> {
  if (command.commands.length === 0) return [];
  return [{ path, group: command }, ...command.commands.flatMap((sub) => groups(sub, [...path, sub.name()]))];
}

/** The names under "Commands:" in a help text (the first word of each entry). */
function listedCommands(help: string): string[] {
  const section = help.split(/^Commands:\n/m)[1] ?? '';
  return [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!);
}

const runHere = (args: string[]) => runKmsHere(args);

const all = groups(buildProgram());

describe('Command: kms help, from the command table', () => {
  it('finds the command groups (the walk itself works)', () => {
    expect(all.map((g) => g.path.join(' '))).toEqual(expect.arrayContaining(['', 'keys', 'aliases', 'datakey', 'access-keys', 'partitions', 'store']));
  });

  describe.each(all.map((g) => [g.path.join(' ') || 'kms', g] as const))('group %s', (_name, { path, group }) => {
    const registered = group.commands.map((c) => c.name());

    it('its --help lists exactly the registered subcommands (and help)', async () => {
      const help = await runHere([...path, '--help']);
      expect(help.code).toBe(EXIT.OK);
      expect(listedCommands(help.stdout).sort()).toEqual([...registered, 'help'].sort());
    });

    it('every subcommand it lists answers --help with its own usage', async () => {
      const help = await runHere([...path, '--help']);
      for (const name of listedCommands(help.stdout).filter((n) => n !== 'help')) {
        const sub = await runHere([...path, name, '--help']);
        expect(sub.code, `kms ${[...path, name].join(' ')} --help: ${sub.stderr}`).toBe(EXIT.OK);
        expect(sub.stdout).toMatch(new RegExp(`^Usage: kms ${[...path, name].join(' ')}\\b`));
      }
      const viaHelp = await runHere([...path, 'help', registered[0]!]);
      expect(viaHelp.code).toBe(EXIT.OK);
      expect(viaHelp.stdout).toMatch(new RegExp(`^Usage: kms ${[...path, registered[0]!].join(' ')}\\b`));
    });
  });

  it.each(all.filter((g) => g.path.length > 0).map((g) => [g.path.join(' '), g.group] as const))(
    "the summary of %s in its parent's help names exactly its subcommands",
    (_name, group) => {
      // The topic is the group's own; the list is generated (a hand-written list once named commands that did not exist).
      expect(group.description()).not.toMatch(/[:,] [a-z-]+(, [a-z-]+)+\)?$/);
      const summary = group.summary();
      expect(summary.slice(summary.lastIndexOf(': ') + 2).split(', ')).toEqual(group.commands.map((c) => c.name()));
    },
  );

  it('an unknown subcommand of a group is a usage error (exit 2), as `kms keys protect` was', async () => {
    for (const args of [
      ['keys', 'protect', 'key-x'],
      ['keys', 'delete', 'key-x'],
    ]) {
      const result = await runHere(args);
      expect(result.code, args.join(' ')).toBe(EXIT.USAGE);
      expect(result.stderr).toMatch(/unknown command/);
    }
  });
});
