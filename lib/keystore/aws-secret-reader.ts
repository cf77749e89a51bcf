import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * Reads a root-key secret from AWS Secrets Manager (./root-key.ts imports this module only for
 * `KMS_ROOT_KEY_SOURCE=aws-secrets-manager:…`). The SDK is imported statically here, so that a
 * function bundle (CommonJS) loads it with `require`, sharing the modules the DynamoDB client
 * loaded already; an `import()` of the package would load its ES-module build beside them, a
 * second copy of the SDK's core on every cold start.
 */
export function awsSecretReader(env: NodeJS.ProcessEnv, timeouts: { connectMs: number; readMs: number }): (secretId: string) => Promise<string | Uint8Array> {
  // Bounded, like every call a cold start makes: a secret store that does not answer fails the start fast.
  const client = new SecretsManagerClient({
    ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
    maxAttempts: 2,
    requestHandler: { connectionTimeout: timeouts.connectMs, requestTimeout: timeouts.readMs },
  });
  return async (secretId) => {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (out.SecretBinary) return out.SecretBinary;
    if (out.SecretString !== undefined) return out.SecretString;
    throw new Error(`the AWS Secrets Manager secret ${secretId} holds no value`);
  };
}
