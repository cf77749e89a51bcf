// Not a test: how much an alias's existence shows in the time of a refusal. For a caller whose
// policy allows nothing on keys, PAIRS pairs of DeleteAlias, UpdateAlias and DescribeKey (by alias)
// requests, one naming an existing alias and one a missing one, in alternating order, in process
// over a file store (as the gateway keeps keys). Prints, per Action, the median difference
// (existing - missing, µs) and the share of pairs where the existing one was slower: about 50 %
// when the two cannot be told apart.
//
//   node --import tsx test/bench/alias-timing.ts            (PAIRS=1000 by default)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import { createLogger } from '../../lib/logger.js';
import { createService } from '../../lib/service.js';
import { createDispatcher } from '../../lib/middleware/dispatch.js';
import { applySeed } from '../../lib/seed.js';
import { OPERATIONS } from '../../functions/actions.js';
import { ACCOUNT_ID, ALIAS, KEY_ID, REGION, TEST_SEED } from '../helpers/service.js';
import { type Credentials, signedRpcRequest } from '../helpers/sign.js';

const PAIRS = Number(process.env.PAIRS ?? 1000);
const OUTSIDER: Credentials = { accessKeyId: 'benchOutsider01', accessKeySecret: 'outsider-secret-0123456789' };

const dir = mkdtempSync(join(tmpdir(), 'kms-alias-timing-'));
try {
  const service = createService({ store: await FileKeyStore.open(dir), region: REGION, accountId: ACCOUNT_ID, logger: createLogger({ level: 'silent' }) });
  await applySeed(TEST_SEED, service);
  await service.accessKeys.create({
    ...OUTSIDER,
    status: 'Enabled',
    createdAt: new Date().toISOString(),
    policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:GenerateRandom', Resource: '*' }] },
  });
  const dispatch = createDispatcher(service, OPERATIONS);
  const timed = async (action: string, params: Record<string, string>) => {
    const request = signedRpcRequest(OUTSIDER, action, params);
    const start = process.hrtime.bigint();
    await dispatch(request);
    return Number(process.hrtime.bigint() - start) / 1000;
  };
  const actions: Array<[action: string, params: (alias: string) => Record<string, string>]> = [
    ['DeleteAlias', (alias) => ({ AliasName: alias })],
    ['UpdateAlias', (alias) => ({ AliasName: alias, KeyId: KEY_ID })],
    ['DescribeKey', (alias) => ({ KeyId: alias })],
  ];
  for (const [action, params] of actions) {
    for (let i = 0; i < 200; i++) await timed(action, params(i % 2 ? ALIAS : 'alias/missing'));
    const differences: number[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const existingFirst = i % 2 === 0;
      const a = await timed(action, params(existingFirst ? ALIAS : 'alias/missing'));
      const b = await timed(action, params(existingFirst ? 'alias/missing' : ALIAS));
      differences.push(existingFirst ? a - b : b - a);
    }
    differences.sort((x, y) => x - y);
    const slower = differences.filter((d) => d > 0).length / differences.length;
    console.log(
      JSON.stringify({
        action,
        pairs: PAIRS,
        medianDifferenceMicros: Number(differences[differences.length >> 1]!.toFixed(1)),
        existingSlowerShare: Number(slower.toFixed(3)),
      }),
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
