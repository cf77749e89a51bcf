import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretLimitExceededError, SecretStageRuleError, SecretVersionNotFoundError } from '../../lib/errors.js';
import {
  CURRENT,
  labelCount,
  MAX_DEPRECATED_VERSIONS,
  PENDING,
  PREVIOUS,
  type StageMap,
  spelledStage,
  storedStage,
  versionsToPrune,
  versionWithStage,
  withNewVersion,
  withStageMove,
} from '../../lib/secrets/stages.js';

const S = 'db/pass';
const map = (entries: Record<string, string[]>): StageMap => new Map(Object.entries(entries));
const plain = (m: StageMap) => Object.fromEntries([...m].map(([k, v]) => [k, [...v].sort()]));

describe('Module: secret version stages', () => {
  it('one set of labels, two spellings: AWS spellings are stored as Alibaba ones, custom labels verbatim', () => {
    expect(['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING', 'ACSCurrent', 'mine', 'awscurrent'].map(storedStage)).toEqual([
      CURRENT,
      PREVIOUS,
      PENDING,
      CURRENT,
      'mine',
      'awscurrent',
    ]);
    expect([CURRENT, PREVIOUS, PENDING, 'mine'].map((l) => spelledStage(l, 'aws'))).toEqual(['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING', 'mine']);
    expect(spelledStage(CURRENT, 'alibaba')).toBe('ACSCurrent');
  });

  describe('puts (§6)', () => {
    it.each<[string, Record<string, string[]>, string[] | undefined, Record<string, string[]>]>([
      ['the first version gets Current', {}, undefined, { v1: [CURRENT] }],
      ['the first version gets Current even with other stages', {}, ['x'], { v1: [CURRENT, 'x'].sort() }],
      ['no stages: Current moves, Previous follows', { v0: [CURRENT] }, undefined, { v0: [PREVIOUS], v1: [CURRENT] }],
      ['no stages: the old Previous loses it', { a: [PREVIOUS], b: [CURRENT, 'x'] }, undefined, { a: [], b: [PREVIOUS, 'x'].sort(), v1: [CURRENT] }],
      [
        'stages without Current: they move, Current stays',
        { a: [PREVIOUS], b: [CURRENT, 'x'] },
        ['x', 'AWSPENDING'],
        { a: [PREVIOUS], b: [CURRENT], v1: [PENDING, 'x'].sort() },
      ],
      ['stages with Current (AWS spelling): Previous follows', { a: [PREVIOUS], b: [CURRENT] }, ['AWSCURRENT'], { a: [], b: [PREVIOUS], v1: [CURRENT] }],
      ['stages with Current and Previous: both land on the new version', { b: [CURRENT] }, [PREVIOUS, CURRENT], { b: [], v1: [CURRENT, PREVIOUS].sort() }],
      ['an empty list: a deprecated version', { b: [CURRENT] }, [], { b: [CURRENT], v1: [] }],
    ])('%s', (_what, before, stages, after) => {
      expect(plain(withNewVersion(S, map(before), 'v1', stages))).toEqual(after);
    });

    it('a version id in use is a programming error (the store handles repeats)', () => {
      expect(() => withNewVersion(S, map({ v1: [CURRENT] }), 'v1')).toThrow();
    });

    it('limits are the protocol’s: per version and per secret', () => {
      const many = Array.from({ length: 20 }, (_, i) => `s${i}`);
      expect(() => withNewVersion(S, map({ a: [CURRENT] }), 'v1', many, { labelsPerVersion: 20 })).not.toThrow();
      expect(() => withNewVersion(S, map({ a: [CURRENT] }), 'v1', [...many, 'more'], { labelsPerVersion: 20 })).toThrow(SecretLimitExceededError);
      const m = map({ a: [CURRENT, 's1', 's2', 's3', 's4', 's5', 's6'] });
      expect(labelCount(m)).toBe(7);
      expect(() => withNewVersion(S, m, 'v1', ['s7'], { labelsPerSecret: 8 })).not.toThrow();
      expect(() => withNewVersion(S, m, 'v1', ['s7', 's8'], { labelsPerSecret: 8 })).toThrow(SecretLimitExceededError);
      expect(() => withNewVersion(S, m, 'v1', ['s7', 's8'])).not.toThrow();
    });
  });

  describe('UpdateSecretVersionStage (§6)', () => {
    const before = { a: [PREVIOUS], b: [CURRENT, 'x'], c: [] as string[] };
    it.each<[string, { stage: string; moveToVersion?: string; removeFromVersion?: string }, Record<string, string[]>]>([
      ['add a custom stage to a version', { stage: 'y', moveToVersion: 'c' }, { a: [PREVIOUS], b: [CURRENT, 'x'].sort(), c: ['y'] }],
      ['remove a custom stage', { stage: 'x', removeFromVersion: 'b' }, { a: [PREVIOUS], b: [CURRENT], c: [] }],
      ['move a custom stage', { stage: 'x', moveToVersion: 'c', removeFromVersion: 'b' }, { a: [PREVIOUS], b: [CURRENT], c: ['x'] }],
      [
        'move Current: Previous follows to where Current was',
        { stage: 'AWSCURRENT', moveToVersion: 'c', removeFromVersion: 'b' },
        { a: [], b: [PREVIOUS, 'x'].sort(), c: [CURRENT] },
      ],
      ['move Previous', { stage: PREVIOUS, moveToVersion: 'c', removeFromVersion: 'a' }, { a: [], b: [CURRENT, 'x'].sort(), c: [PREVIOUS] }],
      ['a stage onto the version that has it: no change', { stage: CURRENT, moveToVersion: 'b' }, { a: [PREVIOUS], b: [CURRENT, 'x'].sort(), c: [] }],
    ])('%s', (_what, move, after) => {
      expect(plain(withStageMove(S, map(before), move))).toEqual(after);
    });

    it.each<[string, { stage: string; moveToVersion?: string; removeFromVersion?: string }, new (...args: any[]) => Error]>([
      ['neither version', { stage: 'x' }, SecretStageRuleError],
      ['Current is never removed', { stage: CURRENT, removeFromVersion: 'b' }, SecretStageRuleError],
      ['Previous is never removed', { stage: 'AWSPREVIOUS', removeFromVersion: 'a' }, SecretStageRuleError],
      ['moving a stage held elsewhere needs RemoveFrom naming the holder', { stage: CURRENT, moveToVersion: 'c' }, SecretStageRuleError],
      ['RemoveFrom must carry the stage', { stage: 'x', moveToVersion: 'c', removeFromVersion: 'a' }, SecretStageRuleError],
      ['removing a stage the version lacks', { stage: 'x', removeFromVersion: 'c' }, SecretStageRuleError],
      ['an unknown MoveTo version', { stage: 'x', moveToVersion: 'zz', removeFromVersion: 'b' }, SecretVersionNotFoundError],
      ['an unknown RemoveFrom version', { stage: 'x', removeFromVersion: 'zz' }, SecretVersionNotFoundError],
    ])('refused: %s', (_what, move, error) => {
      expect(() => withStageMove(S, map(before), move)).toThrow(error);
    });

    it('the per-version limit holds for moves too', () => {
      const full = map({ a: Array.from({ length: 20 }, (_, i) => `s${i}`), b: [CURRENT, 'x'] });
      expect(() => withStageMove(S, full, { stage: 'x', moveToVersion: 'a', removeFromVersion: 'b' }, { labelsPerVersion: 20 })).toThrow(
        SecretLimitExceededError,
      );
    });
  });

  describe('pruning', () => {
    it('drops the oldest deprecated versions beyond 100, never a labelled one', () => {
      const entries: Array<[string, string[]]> = [['cur', [CURRENT]]];
      for (let i = 0; i < 105; i++) entries.push([`d${i}`, []]);
      entries.push(['pend', [PENDING]]);
      const m: StageMap = new Map(entries);
      expect(versionsToPrune(m)).toEqual(['d0', 'd1', 'd2', 'd3', 'd4']);
      expect(versionsToPrune(m, 200)).toEqual([]);
      expect(MAX_DEPRECATED_VERSIONS).toBe(100);
    });
  });

  it('model: random puts, moves and removes never leave a label on two versions, Current exists once a value was put, labelled versions are never pruned', () => {
    const label = fc.constantFrom(CURRENT, PREVIOUS, PENDING, 'AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING', 'x', 'y');
    const command = fc.oneof(
      fc.record({ kind: fc.constant('put' as const), stages: fc.option(fc.array(label, { maxLength: 3 }), { nil: undefined }) }),
      fc.record({
        kind: fc.constant('move' as const),
        stage: label,
        to: fc.option(fc.nat(30), { nil: undefined }),
        from: fc.option(fc.nat(30), { nil: undefined }),
      }),
    );
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), fc.integer({ min: 0, max: 5 }), (commands, keep) => {
        let m: StageMap = new Map();
        let n = 0;
        for (const c of commands) {
          const ids = [...m.keys()];
          if (c.kind === 'put') {
            m = withNewVersion(S, m, `v${n++}`, c.stages);
          } else {
            const to = c.to === undefined || ids.length === 0 ? undefined : ids[c.to % ids.length];
            // Usually the true holder (so a move can succeed), sometimes another version.
            const holder = versionWithStage(m, c.stage);
            const from = c.from === undefined || ids.length === 0 ? undefined : c.from % 3 === 0 ? ids[c.from % ids.length] : holder;
            try {
              m = withStageMove(S, m, { stage: c.stage, moveToVersion: to, removeFromVersion: from });
            } catch (err) {
              if (!(err instanceof SecretStageRuleError || err instanceof SecretVersionNotFoundError)) throw err;
            }
          }
          const labels = [...m.values()].flat();
          expect(new Set(labels).size).toBe(labels.length);
          if (m.size > 0) expect(labels.filter((l) => l === CURRENT)).toHaveLength(1);
          for (const l of labels) expect(storedStage(l)).toBe(l);
          const pruned = versionsToPrune(m, keep);
          for (const id of pruned) expect(m.get(id)).toEqual([]);
          const left = [...m].filter(([id, ls]) => ls.length === 0 && !pruned.includes(id));
          expect(left.length).toBe(Math.min(keep, [...m.values()].filter((ls) => ls.length === 0).length));
          m = new Map([...m].filter(([id]) => !pruned.includes(id)));
        }
      }),
      { numRuns: 300 },
    );
  });
});
