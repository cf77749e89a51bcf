import { Option } from 'commander';
import { DEFAULT_REGISTRY_URL, openRegistry, type PartitionRegistry } from '@alibaba-kms-compatible/client';
import { usageError } from './exit-codes.js';

/** `--registry`, as every partition command takes it: the flag, then KMS_PARTITION_REGISTRY, then the default. */
export function registryOption(): Option {
  return new Option('--registry <url>', 'partition registry: file:<dir>, s3://bucket/prefix or oss://bucket/prefix')
    .env('KMS_PARTITION_REGISTRY')
    .default(DEFAULT_REGISTRY_URL);
}

/** The registry a `--registry` value names; a malformed URL is a usage error. */
export async function registryOf(url: string): Promise<PartitionRegistry> {
  // The command's ALIBABA_CLOUD_ACCESS_KEY_* are its KMS credentials: never sent to OSS.
  const env = { ...process.env, ALIBABA_CLOUD_ACCESS_KEY_ID: undefined, ALIBABA_CLOUD_ACCESS_KEY_SECRET: undefined, ALIBABA_CLOUD_SECURITY_TOKEN: undefined };
  try {
    return await openRegistry(url, { env });
  } catch (err) {
    if (err instanceof TypeError) throw usageError(err.message);
    throw err;
  }
}
