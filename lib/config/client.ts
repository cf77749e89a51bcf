import { DEFAULT_ENDPOINT, DEFAULT_REGISTRY_URL } from '@alibaba-kms-compatible/client';
import { PROVISIONER_ENV } from '../provisioner/from-environment.js';
import { optionalText, text } from './variable.js';

/*
 * The variables of the consumer side: the `kms` command's connection and output, and the
 * partition-key provisioner. The provisioner function reads its own (lib/provisioner/from-environment.ts),
 * the command its options, and the defaults are the client package's: these declarations take
 * their names and defaults from there, for the configuration table and the `kms` options.
 */

export const ENDPOINT = text(PROVISIONER_ENV.endpoint, {
  default: DEFAULT_ENDPOINT,
  doc: 'the API the `kms` command and the provisioner call: `http(s)://host[:port]`, or `host[:port]` (http on loopback, else https)',
});

export const OUTPUT = text('KMS_OUTPUT', { default: 'json', doc: "the `kms` command's output: `json` or `table`" });

export const CA_FILE = optionalText('KMS_CA_FILE', { doc: "https: the `kms` command trusts this CA (PEM) for the endpoint's certificate" });

export const CLIENT_CERT = optionalText('KMS_CLIENT_CERT', {
  doc: "https: the `kms` command's client certificate (PEM), for an endpoint that requires one (mutual TLS)",
});

export const CLIENT_KEY = optionalText('KMS_CLIENT_KEY', { doc: "the client certificate's private key (PEM)" });

export const PARTITION_REGISTRY = text(PROVISIONER_ENV.registry, {
  default: DEFAULT_REGISTRY_URL,
  doc: 'the partition registry: `file:<dir>`, `s3://bucket/prefix`, `oss://bucket/prefix`',
});

export const PARTITION_KEY_ID = optionalText(PROVISIONER_ENV.keyId, { doc: 'the CMK of partition events that name none' });

export const PROVISIONER_SECRET = optionalText(PROVISIONER_ENV.secret, {
  shownDefault: '— (serverless.yml: the stage secret `kms/<stage>/provisioner-key`; deploy:fc: `alibaba-kms-secret:<--provisioner-secret>`)',
  doc: 'the provisioner function reads its access key (`{"accessKeyId": …, "accessKeySecret": …}`, written by `kms access-keys create-provisioner`) from this secret at run time, again after the key is refused: `aws-secrets-manager:<name or ARN>` (a bare name or ARN means the same), or `alibaba-kms-secret:<name>` (read with the `ALIBABA_CLOUD_*` credentials: a Function Compute role\'s); it takes the place of the next two',
});

export const PROVISIONER_ACCESS_KEY_ID = optionalText(PROVISIONER_ENV.accessKeyId, {
  shownDefault: '— (required by the provisioner function without `KMS_PROVISIONER_SECRET`)',
  doc: "the provisioner's own access key",
});

export const PROVISIONER_ACCESS_KEY_SECRET = optionalText(PROVISIONER_ENV.accessKeySecret, {
  shownDefault: '— (required with `KMS_PROVISIONER_ACCESS_KEY_ID`)',
  doc: 'its secret',
});

export const CLIENT_VARIABLES = [
  ENDPOINT,
  OUTPUT,
  CA_FILE,
  CLIENT_CERT,
  CLIENT_KEY,
  PARTITION_REGISTRY,
  PARTITION_KEY_ID,
  PROVISIONER_SECRET,
  PROVISIONER_ACCESS_KEY_ID,
  PROVISIONER_ACCESS_KEY_SECRET,
] as const;
