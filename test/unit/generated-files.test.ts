import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ACTIONS, OPERATIONS } from '../../functions/actions.js';
import { generatedFiles } from '../../infra/generated-files.js';
import { GRANTS } from '../../infra/serverless/iam.js';
import { AWS_TARGETS, BEGIN_MARKER, END_MARKER, generatedFunctions, withGeneratedFunctions } from '../../infra/serverless/functions.js';
import { awsTargetOf } from '../../lib/protocol/aws/binding.js';
import { permissionOf } from '../../lib/operation.js';
import { KMS_ACTIONS } from '../../lib/policy/actions.js';
import { REPO_ROOT } from '../helpers/gateway-process.js';

/*
 * The files derived from the table of Actions (functions/actions.ts) are committed as `npm run
 * generate` writes them: an Action added, renamed or given another binding, group or store access
 * without regenerating fails here, not in a deployment.
 */
describe('Generated files', () => {
  it.each(['lib/policy/kms-actions.ts', 'serverless.yml', '.dependency-cruiser.json'])(
    'when %s is compared with what `npm run generate` writes, it is current',
    async (path) => {
      const expected = (await generatedFiles(REPO_ROOT)).find((file) => file.path === path)!;
      expect(await readFile(join(REPO_ROOT, path), 'utf8'), `${path} is stale: run npm run generate`).toBe(expected.content);
    },
  );

  it('when the policy code reads the RAM action names, they are those of the table, in its order', () => {
    expect(KMS_ACTIONS).toEqual(OPERATIONS.map((action) => permissionOf(action.name)));
  });

  it('when an Action is added at the end of the table, every deployed rule keeps its priority and the new ones take fresh ones', async () => {
    // Modelled on the last Action that speaks both protocols (the table ends with an AWS-only one).
    const added = {
      ...ACTIONS.filter((a) => a.operation.alibaba && a.operation.aws?.length).at(-1)!,
      action: 'AddedAction',
      functionName: 'addedAction',
      file: 'functions/added-action.ts',
    };
    added.operation = { ...added.operation, name: 'AddedAction', aws: [{ ...added.operation.aws![0]!, target: 'AddedOperation' }] };
    const rules = (yml: string) => {
      const functions = (parse(`functions:\n${yml}`, { merge: true }) as { functions: Record<string, { events?: Array<{ alb?: { priority: number } }> }> })
        .functions;
      return Object.fromEntries(Object.entries(functions).map(([name, fn]) => [name, (fn.events ?? []).flatMap((e) => (e.alb ? [e.alb.priority] : []))]));
    };
    const anchors = [...GRANTS].map((name) => `${name}: &${name} {}\n`).join('');
    const before = rules(`${anchors.replace(/^/gm, '  ')}${generatedFunctions()}`);
    const after = rules(
      `${anchors.replace(/^/gm, '  ')}${generatedFunctions([...ACTIONS, added], new Map([...AWS_TARGETS, [awsTargetOf(added.operation.aws![0]!), ['AddedAction']]]))}`,
    );
    const { addedAction, ...kept } = after;
    expect(kept).toEqual(before);
    const taken = new Set(Object.values(before).flat());
    expect(addedAction).toHaveLength(3);
    for (const priority of addedAction!) expect(taken.has(priority), String(priority)).toBe(false);
  });

  it('when serverless.yml has no generated block, generating refuses it rather than guessing where the functions go', () => {
    expect(() => withGeneratedFunctions('functions:\n  x:\n    handler: y\n', generatedFunctions())).toThrow(/no generated block/);
    const text = `functions:\n${BEGIN_MARKER}\n  stale: {}\n${END_MARKER}\n  kept:\n    handler: k\n`;
    const replaced = withGeneratedFunctions(text, `${BEGIN_MARKER}\n  fresh: {}\n${END_MARKER}\n`);
    expect(replaced).toBe(`functions:\n${BEGIN_MARKER}\n  fresh: {}\n${END_MARKER}\n  kept:\n    handler: k\n`);
  });
});
