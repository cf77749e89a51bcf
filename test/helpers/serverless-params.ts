/**
 * The site-specific parameters serverless.yml requires (`custom.requiredParams`: no defaults), as
 * the tests pass them to `serverless package` and `serverless offline`: plausible values of a
 * made-up account, per stage, never a real resource.
 */
export function testParams(stage: string): Record<string, string> {
  return {
    listenerArn: `arn:aws:elasticloadbalancing:eu-central-1:123456789012:listener/app/kms-${stage}/50dc6c495c0c9188/f2f7dc8efc522ab2`,
    partitionBucket: `kms-${stage}-partition-keys`,
    kmsEndpoint: `https://kms-${stage}.example.com`,
    kmsRegion: 'cn-hangzhou',
    kmsAccountId: '1234567890123456',
    alarmEmail: 'kms-oncall@example.com',
  };
}

/** `--param name=value` arguments of the Serverless Framework's command line. */
export const paramArgs = (params: Record<string, string>): string[] => Object.entries(params).flatMap(([name, value]) => ['--param', `${name}=${value}`]);
