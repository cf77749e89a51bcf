import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ACTIONS, SCHEDULED } from '../../infra/actions.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('Table: Actions', () => {
  const template = parse(readFileSync(`${root}serverless.yml`, 'utf8')) as {
    functions: Record<string, { handler: string; events?: Array<{ schedule?: string }> }>;
  };

  it('when serverless.yml is read, it declares exactly one function per Action and per scheduled job in the table, with the table handler', () => {
    const declared = Object.fromEntries(Object.entries(template.functions).map(([name, fn]) => [name, fn.handler]));
    const expected = Object.fromEntries([...ACTIONS, ...SCHEDULED].map((r) => [r.functionName, r.file.replace(/\.ts$/, '.handler')]));
    expect(declared).toEqual(expected);
  });

  it('when a scheduled job is declared, serverless.yml gives it the table schedule', () => {
    for (const job of SCHEDULED) expect(template.functions[job.functionName]!.events).toEqual([{ schedule: job.schedule }]);
  });

  it('when a row names a file, that file exports the row operation and a Lambda handler', async () => {
    for (const route of ACTIONS) {
      const module = (await import(`${root}${route.file}`)) as { operation: unknown; handler: unknown };
      expect(module.operation).toBe(route.operation);
      expect(typeof module.handler).toBe('function');
      expect(route.operation.action).toBe(route.action);
    }
  });

  it('when Actions are listed, none appears twice', () => {
    expect(new Set(ACTIONS.map((r) => r.action)).size).toBe(ACTIONS.length);
    expect(new Set(ACTIONS.map((r) => r.functionName)).size).toBe(ACTIONS.length);
  });
});
