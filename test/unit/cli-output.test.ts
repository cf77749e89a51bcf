import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { emit, flatten, renderRecord, renderRows } from '../../infra/cli/output.js';

/*
 * `-o table`: nested objects and arrays are shown as dotted names and indexed leaves, as a user of
 * `aws --output table` reads them, never as raw JSON.
 */

/** An AWS DescribeKey answer: nested objects, arrays of scalars and of objects, an empty list, null, a two-line text. */
const DESCRIBE_KEY = {
  KeyMetadata: {
    KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
    Enabled: true,
    Description: 'orders\nsecond line',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegionConfiguration: {
      MultiRegionKeyType: 'PRIMARY',
      PrimaryKey: { Arn: 'arn:aws:kms:us-east-1:111122223333:key/mrk-1', Region: 'us-east-1' },
      ReplicaKeys: [
        { Arn: 'arn:aws:kms:eu-west-1:111122223333:key/mrk-1', Region: 'eu-west-1' },
        { Arn: 'arn:aws:kms:ap-south-1:111122223333:key/mrk-1', Region: 'ap-south-1' },
      ],
    },
    Tags: [],
    DeletionDate: null,
  },
  RequestId: 'req-1',
};

/** `Field  Value` lines of a record table, as a map. */
function fields(text: string): Map<string, string> {
  const lines = text.trimEnd().split('\n').slice(2);
  return new Map(lines.map((line) => /^(\S+)\s*(.*)$/.exec(line)!.slice(1, 3) as [string, string]));
}

describe('Function: renderRecord (kms -o table of one result)', () => {
  it('when the value is nested (a DescribeKey answer), every leaf is a line with a dotted, indexed name; no JSON', () => {
    const text = renderRecord(DESCRIBE_KEY);
    expect(text).not.toMatch(/[{}"]|\[\{/);
    expect(text.split('\n')[0]).toMatch(/^Field\s+Value$/);
    expect(Object.fromEntries(fields(text))).toEqual({
      'KeyMetadata.KeyId': '1234abcd-12ab-34cd-56ef-1234567890ab',
      'KeyMetadata.Enabled': 'true',
      'KeyMetadata.Description': 'orders second line',
      'KeyMetadata.EncryptionAlgorithms': 'SYMMETRIC_DEFAULT',
      'KeyMetadata.MultiRegionConfiguration.MultiRegionKeyType': 'PRIMARY',
      'KeyMetadata.MultiRegionConfiguration.PrimaryKey.Arn': 'arn:aws:kms:us-east-1:111122223333:key/mrk-1',
      'KeyMetadata.MultiRegionConfiguration.PrimaryKey.Region': 'us-east-1',
      'KeyMetadata.MultiRegionConfiguration.ReplicaKeys[0].Arn': 'arn:aws:kms:eu-west-1:111122223333:key/mrk-1',
      'KeyMetadata.MultiRegionConfiguration.ReplicaKeys[0].Region': 'eu-west-1',
      'KeyMetadata.MultiRegionConfiguration.ReplicaKeys[1].Arn': 'arn:aws:kms:ap-south-1:111122223333:key/mrk-1',
      'KeyMetadata.MultiRegionConfiguration.ReplicaKeys[1].Region': 'ap-south-1',
      'KeyMetadata.Tags': '',
      'KeyMetadata.DeletionDate': '',
      RequestId: 'req-1',
    });
  });

  it('when a list of scalars has several items, they are one comma-separated value', () => {
    expect(flatten({ Algorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 7] })).toEqual([['Algorithms', 'RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, 7']]);
  });

  it('when the value is a list at the top, its items are indexed', () => {
    expect(Object.fromEntries(fields(renderRecord([{ RegionId: 'cn-hangzhou' }, { RegionId: 'cn-shanghai' }])))).toEqual({
      '[0].RegionId': 'cn-hangzhou',
      '[1].RegionId': 'cn-shanghai',
    });
  });
});

describe('Function: renderRows (kms -o table of a list)', () => {
  const policy = (...actions: string[][]) => ({ Version: '1', Statement: actions.map((Action) => ({ Effect: 'Allow', Action, Resource: '*' })) });

  it('when a column holds objects, it becomes one column per leaf, in order; a row without a leaf has an empty cell', () => {
    const text = renderRows(
      ['AccessKeyId', 'Policy', 'Status'],
      [
        { AccessKeyId: 'LTAIone', Policy: policy(['kms:Decrypt']), Status: 'Enabled' },
        { AccessKeyId: 'LTAItwo', Policy: policy(['kms:Encrypt', 'kms:Decrypt'], ['kms:GenerateDataKey']), Status: 'Disabled' },
      ],
    );
    expect(text).not.toMatch(/[{}"]|\[\{/);
    const [header, rule, one, two] = text.trimEnd().split('\n') as [string, string, string, string];
    expect(header.split(/\s{2,}/)).toEqual([
      'AccessKeyId',
      'Policy.Version',
      'Policy.Statement[0].Effect',
      'Policy.Statement[0].Action',
      'Policy.Statement[0].Resource',
      'Policy.Statement[1].Effect',
      'Policy.Statement[1].Action',
      'Policy.Statement[1].Resource',
      'Status',
    ]);
    expect(rule).toMatch(/^-+( +-+){8}$/);
    // Cells line up under their headers.
    const column = (line: string, name: string) => line.slice(header.indexOf(name)).split(/\s{2,}/)[0];
    expect(column(one, 'Policy.Statement[0].Action')).toBe('kms:Decrypt');
    expect(column(two, 'Policy.Statement[0].Action')).toBe('kms:Encrypt, kms:Decrypt');
    expect(column(two, 'Policy.Statement[1].Action')).toBe('kms:GenerateDataKey');
    expect(column(one, 'Status')).toBe('Enabled');
    expect(one.slice(header.indexOf('Policy.Statement[1].Effect'), header.indexOf('Status')).trim()).toBe('');
  });

  it('when the columns are flat, the table is as before: one column each', () => {
    const text = renderRows(['KeyId', 'KeyArn'], [{ KeyId: 'key-1', KeyArn: 'acs:kms:cn-hangzhou:1:key/key-1' }]);
    expect(text).toBe('KeyId  KeyArn\n-----  -------------------------------\nkey-1  acs:kms:cn-hangzhou:1:key/key-1\n');
  });

  it('when there are no rows, the header still names the columns', () => {
    expect(renderRows(['KeyId', 'KeyArn'], [])).toBe('KeyId  KeyArn\n-----  ------\n');
  });
});

describe('Function: emit', () => {
  it('when -o table is chosen and no view is given, the whole value is a record table; -o json is unchanged', () => {
    const program = new Command().option('-o, --output <format>');
    let out = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += chunk.toString();
      return true;
    });
    try {
      program.parse(['node', 'kms', '-o', 'table']);
      emit(program, DESCRIBE_KEY);
      expect(out).toMatch(/^KeyMetadata\.MultiRegionConfiguration\.ReplicaKeys\[1\]\.Region\s+ap-south-1$/m);
      out = '';
      program.parse(['node', 'kms', '-o', 'json']);
      emit(program, DESCRIBE_KEY);
      expect(JSON.parse(out)).toEqual(DESCRIBE_KEY);
    } finally {
      write.mockRestore();
    }
  });
});
