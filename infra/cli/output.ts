import type { Command } from 'commander';

export type OutputFormat = 'json' | 'table';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['json', 'table'];

/** What a command shows in table form: rows under columns, or one record as field/value pairs. */
export type TableView = { rows: readonly Record<string, unknown>[]; columns: readonly string[] } | { record: Record<string, unknown> };

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
  const view = table ?? { record: value as Record<string, unknown> };
  process.stdout.write('rows' in view ? renderRows(view.columns, view.rows) : renderRecord(view.record));
}

export function outputFormat(command: Command): OutputFormat {
  const { output } = command.optsWithGlobals<{ output?: OutputFormat }>();
  return output ?? 'json';
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** A plain text table: a header, a rule, one line per row; columns padded to their widest cell. */
export function renderRows(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const cells = rows.map((row) => columns.map((c) => cell(row[c]).replace(/\s*\n\s*/g, ' ')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
  return `${out.join('\n')}\n`;
}

/** One record as `FIELD  VALUE` lines; nested objects are flattened with dotted names. */
export function renderRecord(record: Record<string, unknown>): string {
  const rows: Record<string, unknown>[] = [];
  const walk = (prefix: string, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(prefix ? `${prefix}.${k}` : k, v);
    } else {
      rows.push({ Field: prefix, Value: value });
    }
  };
  walk('', record);
  return renderRows(['Field', 'Value'], rows);
}
