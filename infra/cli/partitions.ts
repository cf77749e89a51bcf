import { type Command, Option } from 'commander';
import { type PartitionEvent, PROVISION_DEFAULTS, type ProvisionSummary, provisionPartitions } from '@alibaba-kms-compatible/client';
import { connectionOf, integer } from './common.js';
import { CliError, EXIT, usageError } from './exit-codes.js';
import { emit } from './output.js';
import { EventFileError, eventFileFormat, readPartitionEvents } from './partition-events.js';
import { registerPartitionInvoke } from './partition-invoke.js';
import { Progress } from './progress.js';
import { registryOf, registryOption } from './registry-option.js';

/**
 * `kms partitions`: the key provider's side of partition keys. `provision` creates a data key per
 * partition (GenerateDataKeyWithoutPlaintext: the provider never sees one in plaintext) into the
 * registry; `invoke` runs the event-triggered provisioner's handler on an event file
 * (./partition-invoke.ts); `get` and `list` read the registry (encrypted keys only).
 */
export function registerPartitions(program: Command): void {
  const partitions = program.command('partitions').description('partition data keys: provisioned from events into a registry');

  partitions
    .command('provision')
    .description(
      'create a data key for every partition in a file of events (JSON Lines, or CSV with a partitionId column); prints the summary; exit 1 when any event failed',
    )
    .requiredOption('--file <path>', 'events: .jsonl (one {"partitionId", "keyId"?, "encryptionContext"?} per line) or .csv; - for stdin (JSON Lines)')
    .option('--key <key>', 'the CMK for events that name none (KMS_PARTITION_KEY_ID)', process.env.KMS_PARTITION_KEY_ID)
    .addOption(registryOption())
    .addOption(new Option('--format <format>', 'event file format (default: by extension)').choices(['jsonl', 'csv']))
    .addOption(
      new Option('--concurrency <n>', 'events in flight at once')
        .argParser(integer(1, PROVISION_DEFAULTS.maxConcurrency))
        .default(PROVISION_DEFAULTS.concurrency),
    )
    .option('--no-progress', 'no progress bar (there is none unless stderr is a terminal)')
    .action(
      async (options: { file: string; key?: string; registry: string; format?: 'jsonl' | 'csv'; concurrency: number; progress: boolean }, command: Command) => {
        const connection = connectionOf(command);
        const registry = await registryOf(options.registry);
        const progress = new Progress('provisioning', undefined, options.progress, 'items');
        let summary: ProvisionSummary;
        try {
          summary = await provisionPartitions(
            {
              ...connection,
              registry,
              concurrency: options.concurrency,
              onProgress: () => progress.advance(1),
              ...(options.key ? { keyId: options.key } : {}),
            },
            // Validated one by one by the provisioner: a bad line is a failed event, not a failed run.
            readPartitionEvents(options.file, options.format ?? eventFileFormat(options.file)) as AsyncIterable<PartitionEvent>,
          );
        } catch (err) {
          progress.clear();
          if (err instanceof EventFileError) throw usageError(err.message);
          throw err;
        }
        progress.finish();
        emit(command, summary);
        if (summary.failed.length > 0) {
          const others = summary.created + summary.existing;
          throw new CliError(
            EXIT.REFUSED,
            `${summary.failed.length} event(s) failed (see "failed" in the summary)${others > 0 ? `; the other ${others} have their data key` : ''}`,
          );
        }
      },
    );

  partitions
    .command('get')
    .description("a partition's registry entry: its CMK, key version, encrypted data key and bound context (never a plaintext key)")
    .argument('<partitionId>')
    .addOption(registryOption())
    .action(async (partitionId: string, options: { registry: string }, command: Command) => {
      const registry = await registryOf(options.registry);
      const entry = await registry.get(partitionId);
      if (!entry) throw new CliError(EXIT.REFUSED, `partition "${partitionId}" has no data key in the registry ${registry.url}`, 'PartitionNotFound');
      emit(command, { ...entry, encryptionContext: { ...entry.encryptionContext } });
    });

  partitions
    .command('list')
    .description('every partition id in the registry')
    .addOption(registryOption())
    .action(async (options: { registry: string }, command: Command) => {
      const registry = await registryOf(options.registry);
      const ids = await registry.list();
      emit(command, ids, { rows: ids.map((partitionId) => ({ partitionId })), columns: ['partitionId'] });
    });

  registerPartitionInvoke(partitions);
}
