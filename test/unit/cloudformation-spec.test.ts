// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub variables, as templates hold them
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSpecifications, MAX_RESOURCES, type Specifications, type Template, validateTemplate } from '../helpers/cloudformation-spec.js';

/*
 * The check test/e2e/serverless.test.ts runs on every stage's packaged template, on small
 * hand-made templates: each mistake CloudFormation would refuse is reported, naming the resource
 * and the property, and a correct template passes.
 */

let specs: Specifications;
beforeAll(() => {
  specs = loadSpecifications();
});

/** A small template that validates: a bucket, a topic with a subscription, an alarm with metric math. */
const valid = (): Template => ({
  AWSTemplateFormatVersion: '2010-09-09',
  Parameters: { Email: { Type: 'String' } },
  Conditions: { Always: { 'Fn::Equals': ['a', 'a'] } },
  Resources: {
    Bucket: {
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' }, BucketKeyEnabled: true }] },
        Tags: [{ Key: 'stage', Value: 'test' }],
      },
    },
    Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: { 'Fn::Sub': '${AWS::StackName}-alarms' } } },
    Subscription: { Type: 'AWS::SNS::Subscription', Properties: { TopicArn: { Ref: 'Topic' }, Protocol: 'email', Endpoint: { Ref: 'Email' } } },
    Alarm: {
      Type: 'AWS::CloudWatch::Alarm',
      DependsOn: ['Topic'],
      Properties: {
        Metrics: [
          { Id: 'a', ReturnData: false, MetricStat: { Metric: { Namespace: 'AWS/S3', MetricName: 'NumberOfObjects' }, Period: 300, Stat: 'Sum' } },
          { Id: 'total', Expression: 'SUM([a])', ReturnData: true },
        ],
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [{ 'Fn::If': ['Always', { Ref: 'Topic' }, { Ref: 'AWS::NoValue' }] }],
        AlarmDescription: { 'Fn::Sub': 'bucket ${Bucket.Arn}' },
      },
    },
  },
  Outputs: { BucketArn: { Value: { 'Fn::GetAtt': ['Bucket', 'Arn'] } } },
});

/** The template with one change made to a copy. */
const withChange = (change: (t: any) => void): Template => {
  const template = structuredClone(valid());
  change(template);
  return template;
};

describe('validateTemplate', () => {
  it('passes a correct template, including properties only the newer specification knows (S3 MetadataConfiguration, Lambda LoggingConfig)', () => {
    expect(validateTemplate(valid(), specs)).toEqual([]);
    const newer = withChange((t) => {
      t.Resources.Fn = {
        Type: 'AWS::Lambda::Function',
        Properties: { Role: 'arn:aws:iam::123456789012:role/r', Code: { ZipFile: 'x' }, LoggingConfig: { LogFormat: 'JSON' } },
      };
      t.Resources.Bucket.Properties.AbacStatus = 'Enabled';
    });
    expect(validateTemplate(newer, specs)).toEqual([]);
  });

  it.each([
    ['an unknown resource type', (t: any) => (t.Resources.Topic.Type = 'AWS::SNS::Topics'), 'Topic: unknown resource type AWS::SNS::Topics'],
    ['an unknown property', (t: any) => (t.Resources.Topic.Properties.TopicNames = 'x'), 'Topic (AWS::SNS::Topic): unknown property TopicNames'],
    [
      'a missing required property',
      (t: any) => delete t.Resources.Subscription.Properties.Protocol,
      'Subscription (AWS::SNS::Subscription): required property Protocol is missing',
    ],
    [
      'an unknown property of a nested type',
      (t: any) => (t.Resources.Bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.KMSKeyId = 'k'),
      'Bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault (ServerSideEncryptionByDefault): unknown property KMSKeyId',
    ],
    [
      'a missing required property of a nested type',
      (t: any) => delete t.Resources.Alarm.Properties.Metrics[0].MetricStat.Stat,
      'Alarm.Metrics[0].MetricStat (MetricStat): required property Stat is missing',
    ],
    [
      'a missing required Tag value',
      (t: any) => delete t.Resources.Bucket.Properties.Tags[0].Value,
      'Bucket.Tags[0] (Tag): required property Value is missing',
    ],
    ['an object where a list belongs', (t: any) => (t.Resources.Alarm.Properties.Metrics = { Id: 'a' }), 'Alarm.Metrics: not a list'],
    [
      'a single value where an object belongs',
      (t: any) => (t.Resources.Bucket.Properties.BucketEncryption = 'aws:kms'),
      'Bucket.BucketEncryption: not an object (BucketEncryption)',
    ],
    [
      'a list where a single value belongs',
      (t: any) => (t.Resources.Topic.Properties.TopicName = ['a']),
      'Topic.TopicName: a list where a single value belongs',
    ],
    [
      'an attribute the type does not have',
      (t: any) => (t.Outputs.BucketArn.Value = { 'Fn::GetAtt': ['Bucket', 'Name'] }),
      'Outputs.BucketArn: Fn::GetAtt Bucket.Name: AWS::S3::Bucket has no attribute Name',
    ],
    [
      'an attribute in Fn::Sub the type does not have',
      (t: any) => (t.Resources.Alarm.Properties.AlarmDescription = { 'Fn::Sub': 'bucket ${Bucket.Id}' }),
      'Resources.Alarm: Fn::GetAtt Bucket.Id: AWS::S3::Bucket has no attribute Id',
    ],
    [
      'Fn::GetAtt of a resource that is not there',
      (t: any) => (t.Outputs.BucketArn.Value = { 'Fn::GetAtt': 'Buckets.Arn' }),
      'Outputs.BucketArn: Fn::GetAtt of Buckets, which is not a resource of the template',
    ],
    [
      'a Ref to nothing',
      (t: any) => (t.Resources.Subscription.Properties.TopicArn = { Ref: 'Topics' }),
      'Resources.Subscription: Ref Topics, which the template does not declare',
    ],
    [
      'an Fn::Sub variable that is not declared',
      (t: any) => (t.Resources.Topic.Properties.TopicName = { 'Fn::Sub': '${Stage}-alarms' }),
      'Resources.Topic: Fn::Sub variable ${Stage}, which the template does not declare',
    ],
    ['a DependsOn on nothing', (t: any) => (t.Resources.Alarm.DependsOn = ['Topics']), 'Alarm: DependsOn Topics, which is not a resource of the template'],
    ['an undeclared condition', (t: any) => (t.Resources.Topic.Condition = 'Never'), 'Topic: Condition Never is not declared'],
    [
      'an Fn::If on an undeclared condition',
      (t: any) => (t.Resources.Alarm.Properties.AlarmActions = [{ 'Fn::If': ['Never', 'a', 'b'] }]),
      'Resources.Alarm: Fn::If on Never, which is not declared',
    ],
    ['an unknown resource attribute', (t: any) => (t.Resources.Topic.Deletionpolicy = 'Retain'), 'Topic: unknown resource attribute Deletionpolicy'],
    ['an unknown DeletionPolicy', (t: any) => (t.Resources.Bucket.DeletionPolicy = 'Keep'), 'Bucket: DeletionPolicy Keep'],
    ['an unknown section', (t: any) => (t.Output = {}), 'template: unknown section Output'],
  ])('reports %s', (_what, change, problem) => {
    expect(validateTemplate(withChange(change), specs)).toEqual([problem]);
  });

  it('takes an intrinsic function for any property value (only CloudFormation resolves it), and an Fn::Sub variable of its own map', () => {
    const template = withChange((t) => {
      t.Resources.Bucket.Properties.BucketEncryption = { 'Fn::If': ['Always', { ServerSideEncryptionConfiguration: [] }, { Ref: 'AWS::NoValue' }] };
      t.Resources.Topic.Properties.TopicName = { 'Fn::Sub': ['${Prefix}-alarms', { Prefix: { Ref: 'AWS::StackName' } }] };
    });
    expect(validateTemplate(template, specs)).toEqual([]);
  });

  it("reports a stack of more than CloudFormation's 500 resources", () => {
    const template = withChange((t) => {
      for (let i = 0; i < MAX_RESOURCES; i++) t.Resources[`Topic${i}`] = { Type: 'AWS::SNS::Topic' };
    });
    expect(validateTemplate(template, specs)).toEqual([`template: ${MAX_RESOURCES + 4} resources, more than CloudFormation's ${MAX_RESOURCES} per stack`]);
  });
});
