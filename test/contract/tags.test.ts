import { beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, ALIAS, CONSUMER, createTestService, KEY_ID, keyArnOf, OTHER_KEY_ID, type TestService } from '../helpers/service.js';
import { signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { expectError } from './support.js';

/* TagResource, UntagResource, ListResourceTags on keys. */

let t: TestService;
beforeEach(async () => {
  t = await createTestService();
});
const call = (action: string, params: Record<string, string>, who = ADMIN) => t.call(signedRpcRequest(who, action, params));
const tagsOf = async (keyId = KEY_ID) =>
  (await call('ListResourceTags', { KeyId: keyId })).body.Tags.Tag as Array<{ KeyId: string; TagKey: string; TagValue: string }>;
const json = (tags: Array<[string, string]>) => JSON.stringify(tags.map(([TagKey, TagValue]) => ({ TagKey, TagValue })));

describe('Tags on keys', () => {
  it('when a key has no tags, ListResourceTags answers an empty list (an array, as the SDK needs)', async () => {
    const r = await call('ListResourceTags', { KeyId: KEY_ID });
    expect(r.status).toBe(200);
    expect(r.body.Tags).toEqual({ Tag: [] });
  });

  it('TagResource adds tags (by id, alias or ARN), replaces a value, and ListResourceTags lists them by TagKey with the key id', async () => {
    expect(
      (
        await call('TagResource', {
          KeyId: KEY_ID,
          Tags: json([
            ['project', 'alpha'],
            ['Env', 'prod'],
          ]),
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call('TagResource', {
          KeyId: ALIAS,
          Tags: json([
            ['project', 'beta'],
            ['empty', ''],
          ]),
        })
      ).status,
    ).toBe(200);
    expect((await t.call(signedV3Request(ADMIN, 'TagResource', { KeyId: keyArnOf(KEY_ID), Tags: json([['a/b\\c_d-e.f+g=h:i@j', 'V=1.0:x@y']]) }))).status).toBe(
      200,
    );
    expect(await tagsOf()).toEqual([
      { KeyId: KEY_ID, TagKey: 'Env', TagValue: 'prod' },
      { KeyId: KEY_ID, TagKey: 'a/b\\c_d-e.f+g=h:i@j', TagValue: 'V=1.0:x@y' },
      { KeyId: KEY_ID, TagKey: 'empty', TagValue: '' },
      { KeyId: KEY_ID, TagKey: 'project', TagValue: 'beta' },
    ]);
    // Another key's tags are its own; keys are case-sensitive.
    expect(await tagsOf(OTHER_KEY_ID)).toEqual([]);
    await call('TagResource', { KeyId: KEY_ID, Tags: json([['env', 'lower']]) });
    expect((await tagsOf()).map((tag) => tag.TagKey)).toEqual(['Env', 'a/b\\c_d-e.f+g=h:i@j', 'empty', 'env', 'project']);
  });

  it('UntagResource removes the keys named (a JSON list or commas), ignores keys the key does not carry', async () => {
    await call('TagResource', {
      KeyId: KEY_ID,
      Tags: json([
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
        ['d', '4'],
      ]),
    });
    expect((await call('UntagResource', { KeyId: KEY_ID, TagKeys: '["a","missing"]' })).status).toBe(200);
    expect((await call('UntagResource', { KeyId: ALIAS, TagKeys: 'b, c' })).status).toBe(200);
    expect(await tagsOf()).toEqual([{ KeyId: KEY_ID, TagKey: 'd', TagValue: '4' }]);
    await call('UntagResource', { KeyId: KEY_ID, TagKeys: 'd' });
    expect(await tagsOf()).toEqual([]);
  });

  it('a key carries at most 20 tags: the 21st answers 400 Rejected.LimitExceeded and changes nothing', async () => {
    const twenty = Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v'] as [string, string]);
    expect((await call('TagResource', { KeyId: KEY_ID, Tags: json(twenty) })).status).toBe(200);
    expect((await call('TagResource', { KeyId: KEY_ID, Tags: json([['k3', 'replaced']]) })).status).toBe(200);
    expectError(await call('TagResource', { KeyId: KEY_ID, Tags: json([['k20', 'v']]) }), 400, 'Rejected.LimitExceeded');
    expect(await tagsOf()).toHaveLength(20);
  });

  it.each([
    ['not JSON', '{"TagKey":'],
    ['an object, not a list', '{"TagKey":"a","TagValue":"b"}'],
    ['an empty list', '[]'],
    ['a missing TagValue', '[{"TagKey":"a"}]'],
    ['a number as value', '[{"TagKey":"a","TagValue":1}]'],
    ['an extra field', '[{"TagKey":"a","TagValue":"b","x":1}]'],
    ['an empty TagKey', '[{"TagKey":"","TagValue":"b"}]'],
    ['a space in the key', '[{"TagKey":"a b","TagValue":"b"}]'],
    ['a reserved key (aliyun)', '[{"TagKey":"aliyun:x","TagValue":"b"}]'],
    ['a reserved key (acs:)', '[{"TagKey":"acs:x","TagValue":"b"}]'],
    ['a key twice', '[{"TagKey":"a","TagValue":"1"},{"TagKey":"a","TagValue":"2"}]'],
    ['a 129-character key', JSON.stringify([{ TagKey: 'k'.repeat(129), TagValue: '' }])],
    ['a 129-character value', JSON.stringify([{ TagKey: 'k', TagValue: 'v'.repeat(129) }])],
    ['21 tags at once', JSON.stringify(Array.from({ length: 21 }, (_, i) => ({ TagKey: `k${i}`, TagValue: '' })))],
    ['__proto__ fields', '[{"__proto__":{"TagKey":"a"},"TagValue":"b"}]'],
    ['a non-ASCII key', '[{"TagKey":"é","TagValue":"b"}]'],
    ['a look-alike reserved key (Cyrillic а)', '[{"TagKey":"\u0430liyun:x","TagValue":"b"}]'],
    ['a non-ASCII value', '[{"TagKey":"a","TagValue":"中"}]'],
  ])('TagResource with Tags that are %s answers 400 InvalidParameter naming Tags, and tags nothing', async (_what, tags) => {
    expectError(await call('TagResource', { KeyId: KEY_ID, Tags: tags }), 400, 'InvalidParameter', 'Tags');
    expect(await tagsOf()).toEqual([]);
  });

  it.each([
    [{ Tags: '[{"TagKey":"a","TagValue":"b"}]' }, 400, 'MissingParameter', 'KeyId'],
    [{ KeyId: KEY_ID }, 400, 'MissingParameter', 'Tags'],
    [{ KeyId: KEY_ID, SecretName: 's', Tags: '[{"TagKey":"a","TagValue":"b"}]' }, 400, 'InvalidParameter', 'SecretName'],
    // A secret is tagged by SecretName (test/contract/secrets-alibaba.test.ts); this one does not exist.
    [{ SecretName: 's', Tags: '[{"TagKey":"a","TagValue":"b"}]' }, 404, 'Forbidden.ResourceNotFound', 'secret "s"'],
    [{ CertificateId: 'c', Tags: '[{"TagKey":"a","TagValue":"b"}]' }, 404, 'Forbidden.ResourceNotFound', 'CertificateId'],
    [{ KeyId: 'alias/', Tags: '[{"TagKey":"a","TagValue":"b"}]' }, 400, 'InvalidParameter', 'KeyId'],
  ] as const)('TagResource with %j answers %i %s', async (params, status, code, names) => {
    expectError(await call('TagResource', params as Record<string, string>), status, code, names);
  });

  it.each([
    ['aliyun:x', 'InvalidParameter'],
    ['', 'InvalidParameter'],
    ['[1]', 'InvalidParameter'],
    ['[', 'InvalidParameter'],
  ])('UntagResource with TagKeys %j answers 400 %s', async (keys, code) => {
    expectError(await call('UntagResource', { KeyId: KEY_ID, TagKeys: keys }), 400, code, 'TagKeys');
  });

  it('a key pending deletion refuses TagResource and UntagResource (409) but still lists its tags', async () => {
    await call('TagResource', { KeyId: OTHER_KEY_ID, Tags: json([['a', '1']]) });
    await call('ScheduleKeyDeletion', { KeyId: OTHER_KEY_ID, PendingWindowInDays: '7' });
    expectError(await call('TagResource', { KeyId: OTHER_KEY_ID, Tags: json([['b', '2']]) }), 409, 'Rejected.PendingDeletion');
    expectError(await call('UntagResource', { KeyId: OTHER_KEY_ID, TagKeys: 'a' }), 409, 'Rejected.PendingDeletion');
    expect(await tagsOf(OTHER_KEY_ID)).toEqual([{ KeyId: OTHER_KEY_ID, TagKey: 'a', TagValue: '1' }]);
  });

  it('XML answers list the tags too', async () => {
    await call('TagResource', { KeyId: KEY_ID, Tags: json([['a', '1']]) });
    const xml = await call('ListResourceTags', { KeyId: KEY_ID, Format: 'XML' });
    expect(xml.raw).toContain(`<Tags><Tag><KeyId>${KEY_ID}</KeyId><TagKey>a</TagKey><TagValue>1</TagValue></Tag></Tags>`);
  });

  it.each(['TagResource', 'UntagResource', 'ListResourceTags'])('%s is authorised on the key: a caller allowed only Decrypt is refused', async (action) => {
    const params: Record<string, string> = {
      KeyId: KEY_ID,
      ...(action === 'TagResource' ? { Tags: json([['a', '1']]) } : action === 'UntagResource' ? { TagKeys: 'a' } : {}),
    };
    expectError(await call(action, params, CONSUMER), 403, 'Forbidden.NoPermission');
    expect(await tagsOf()).toEqual([]);
  });
});

describe('CreateKey with Tags', () => {
  it('the new key carries the tags (the JSON list TagResource takes); DescribeKey and ListResourceTags agree', async () => {
    const created = await call('CreateKey', {
      Tags: json([
        ['project', 'alpha'],
        ['Env', 'prod'],
      ]),
    });
    expect(created.status, created.raw).toBe(200);
    expect(await tagsOf(created.body.KeyMetadata.KeyId)).toEqual([
      { KeyId: created.body.KeyMetadata.KeyId, TagKey: 'Env', TagValue: 'prod' },
      { KeyId: created.body.KeyMetadata.KeyId, TagKey: 'project', TagValue: 'alpha' },
    ]);
    // The limit holds from then on.
    const nineteen = Array.from({ length: 19 }, (_, i) => [`k${i}`, 'v'] as [string, string]);
    expect((await call('TagResource', { KeyId: created.body.KeyMetadata.KeyId, Tags: json(nineteen) })).status).toBe(400);
    expect((await call('TagResource', { KeyId: created.body.KeyMetadata.KeyId, Tags: json(nineteen.slice(0, 18)) })).status).toBe(200);
  });

  it.each([
    ['not JSON', '{'],
    ['a reserved key', json([['aliyun-x', 'v']])],
    [
      'a key twice',
      json([
        ['a', '1'],
        ['a', '2'],
      ]),
    ],
    ['21 tags', json(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'] as [string, string]))],
    ['an empty list', '[]'],
  ])('Tags that are %s: 400 InvalidParameter naming Tags, and no key is made', async (_what, tags) => {
    const before = (await call('ListKeys', { PageSize: '100' })).body.TotalCount;
    expectError(await call('CreateKey', { Tags: tags }), 400, 'InvalidParameter', 'Tags');
    expect((await call('ListKeys', { PageSize: '100' })).body.TotalCount).toBe(before);
  });
});
