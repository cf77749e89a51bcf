import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { ACCOUNT_ID, ADMIN, createTestService, type TestService } from '../helpers/service.js';
import { AWS_REGION, inProcessSecretsManagerClient } from '../helpers/aws.js';
import { signedRpcRequest } from '../helpers/sign.js';

let t: TestService;
let sm: SecretsManagerClient;
beforeEach(async () => {
  t = await createTestService();
  sm = inProcessSecretsManagerClient(t, ADMIN);
});

describe('smoke', () => {
  it('reads a secret made through Alibaba', async () => {
    const r = await t.call(signedRpcRequest(ADMIN, 'CreateSecret', { SecretName: 'db/password', VersionId: 'v1', SecretData: 'hunter2' }));
    expect(r.status, r.raw).toBe(200);
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'db/password' }));
    expect(got.SecretString).toBe('hunter2');
    expect(got.ARN).toMatch(new RegExp(`^arn:aws:secretsmanager:${AWS_REGION}:${ACCOUNT_ID}:secret:db/password-[A-Za-z0-9]{6}$`));
    expect(got.VersionStages).toEqual(['AWSCURRENT']);
  });
});
