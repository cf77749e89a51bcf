/** Where this deployment's keys live in AWS ARNs. */
export interface AwsScope {
  accountId: string;
  /** Regions a SigV4 credential scope (and an AWS ARN) may name. */
  regions: ReadonlySet<string>;
  /** The Alibaba ARN scope, for references AWS names in another account or region. */
  alibabaRegion: string;
}
