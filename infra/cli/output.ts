import type { Command } from 'commander';

export type OutputFormat = 'json' | 'table';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['json', 'table'];

/** What a command shows in table form: rows under columns, or one record as field/value pairs. */
export type TableView = { rows: readonly Record<string, unknown>[]; columns: readonly string[] } | { record: unknown };

/**
 * Prints a command's result to stdout: `json` prints `value` (pretty, one document, for `jq`),
 * `table` prints `table` (or `value` as a record when no table view is given).
 */
export function emit(command: Command, value: unknown, table?: TableView): void {
  const format = outputFormat(command);
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  const view = table ?? { record: value };
  process.stdout.write('rows' in view ? renderRows(view.columns, view.rows) : renderRecord(view.record));
}

export function outputFormat(command: Command): OutputFormat {
  const { output } = command.optsWithGlobals<{ output?: OutputFormat }>();
  return output ?? 'json';
}

/**
 * A value as `[name, text]` leaves, for a table: objects by dotted names (`KeyMetadata.KeyId`),
 * arrays of objects by index (`Tags[0].TagKey`), arrays of scalars as one comma-separated text,
 * empty objects and arrays and null as an empty text. Never JSON: a table is read, not parsed.
 */
export function flatten(value: unknown, name = ''): Array<[string, string]> {
  if (value === undefined || value === null) return [[name, '']];
  if (Array.isArray(value)) {
    if (value.every((item) => item === null || typeof item !== 'object')) return [[name, value.map((item) => scalar(item)).join(', ')]];
    return value.flatMap((item, i) => flatten(item, `${name}[${i}]`));
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return [[name, '']];
    return entries.flatMap(([key, item]) => flatten(item, name ? `${name}.${key}` : key));
  }
  return [[name, scalar(value)]];
}

function scalar(value: unknown): string {
  return value === undefined || value === null ? '' : String(value).replace(/\s*\n\s*/g, ' ');
}

/**
 * A plain text table: a header, a rule, one line per row; columns padded to their widest cell. A
 * column whose values are objects or arrays of objects becomes one column per leaf
 * (`Policy.Version`, `Policy.Statement[0].Effect`, …), in the order they first appear.
 */
export function renderRows(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  // Per row, per column: that column's leaves.
  const flatRows = rows.map((row) => columns.map((c) => flatten(row[c], c)));
  const leaves = columns.flatMap((c, i) => (rows.length === 0 ? [c] : [...new Set(flatRows.flatMap((row) => row[i]!.map(([name]) => name)))]));
  const byName = flatRows.map((row) => new Map(row.flat()));
  const cells = byName.map((row) => leaves.map((name) => row.get(name) ?? ''));
  const widths = leaves.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(leaves), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
  return `${out.join('\n')}\n`;
}

/** One record as `Field  Value` lines, one per leaf (see {@link flatten}). */
export function renderRecord(record: unknown): string {
  return renderRows(
    ['Field', 'Value'],
    flatten(record).map(([Field, Value]) => ({ Field, Value })),
  );
}
