import type { Command } from 'commander';

/**
 * Help from the command table: every group (a command with subcommands) is summarised in its
 * parent's help as `<topic>: <subcommand>, …`, built from the subcommands actually registered, so
 * no help text can name a command that does not exist or leave one out. A group's own description
 * is its topic only; its `--help` lists the subcommands from the same table (commander does).
 */
export function summariseGroups(command: Command): void {
  for (const sub of command.commands) {
    if (sub.commands.length === 0) continue;
    summariseGroups(sub);
    sub.summary(`${sub.description()}: ${sub.commands.map((c) => c.name()).join(', ')}`);
  }
}
