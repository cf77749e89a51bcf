import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { InvalidPartitionEventError } from '@alibaba-kms-compatible/client';

export type EventFileFormat = 'jsonl' | 'csv';

/** The event file as a whole cannot be read (a CSV without a partitionId column). */
export class EventFileError extends Error {}

/** A line that could not be read as an event: the provisioner reports it as a failed event. */
export class UnreadableEventLine extends InvalidPartitionEventError {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

/** The format of an event file by its extension: `.csv` is CSV, anything else JSON Lines. */
export function eventFileFormat(path: string): EventFileFormat {
  return path.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl';
}

/**
 * Partition events from a file (or stdin for `-`), streamed, in file order; blank lines are skipped.
 *
 * - JSON Lines: one event object per line (`{"partitionId": …, "keyId"?: …, "encryptionContext"?: {…}}`).
 * - CSV: a header row naming the columns; `partitionId` is required, `keyId` optional, and every
 *   other column is an EncryptionContext key (an empty cell adds no pair). Fields may be quoted
 *   (`"a,b"`, `""` for a quote); a quoted field cannot span lines.
 *
 * A line that cannot be read yields an {@link UnreadableEventLine}, so it is reported as one failed
 * event and the rest are still provisioned.
 */
export async function* readPartitionEvents(path: string, format: EventFileFormat = eventFileFormat(path)): AsyncGenerator<unknown> {
  const input: Readable = path === '-' ? process.stdin : createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let header: string[] | undefined;
  let number = 0;
  for await (const read of lines) {
    number += 1;
    // A byte-order mark (spreadsheets write one in "CSV UTF-8") is not part of the first line.
    const line = number === 1 ? read.replace(/^\uFEFF/, '') : read;
    if (line.trim() === '') continue;
    if (format === 'jsonl') {
      try {
        yield JSON.parse(line) as unknown;
      } catch {
        yield new UnreadableEventLine(number, 'not valid JSON');
      }
      continue;
    }
    const fields = parseCsvLine(line);
    if (!header) {
      if (!fields?.includes('partitionId')) throw new EventFileError(`${path}: the CSV header (line ${number}) must name a partitionId column`);
      header = fields;
      continue;
    }
    if (!fields || fields.length !== header.length) {
      yield new UnreadableEventLine(number, `expected ${header.length} CSV fields`);
      continue;
    }
    yield csvEvent(header, fields);
  }
}

function csvEvent(header: readonly string[], fields: readonly string[]): Record<string, unknown> {
  const event: Record<string, unknown> = {};
  const context: Record<string, string> = Object.create(null);
  header.forEach((column, i) => {
    const value = fields[i]!;
    if (column === 'partitionId') event.partitionId = value;
    else if (column === 'keyId') {
      if (value !== '') event.keyId = value;
    } else if (value !== '') context[column] = value;
  });
  if (Object.keys(context).length > 0) event.encryptionContext = context;
  return event;
}

/** One CSV record on one line (RFC 4180 quoting), or undefined when its quotes do not close. */
export function parseCsvLine(line: string): string[] | undefined {
  const fields: string[] = [];
  let at = 0;
  for (;;) {
    if (line[at] === '"') {
      let value = '';
      at += 1;
      for (;;) {
        const quote = line.indexOf('"', at);
        if (quote === -1) return undefined;
        value += line.slice(at, quote);
        if (line[quote + 1] === '"') {
          value += '"';
          at = quote + 2;
          continue;
        }
        at = quote + 1;
        break;
      }
      fields.push(value);
      if (at === line.length) return fields;
      if (line[at] !== ',') return undefined;
      at += 1;
    } else {
      const comma = line.indexOf(',', at);
      fields.push(comma === -1 ? line.slice(at) : line.slice(at, comma));
      if (comma === -1) return fields;
      at = comma + 1;
    }
  }
}
