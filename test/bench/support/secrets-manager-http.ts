import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for Secrets Manager that answers `GetSecretValue` over HTTP (the JSON protocol the
 * SDK speaks), for processes that cannot share an in-process mock: point the SDK at it with
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER`. Secrets Manager itself cannot run here. Anything else
 * answers 400 `InvalidRequestException`; an unknown secret `ResourceNotFoundException`.
 */
export interface SecretsManagerStandIn {
  endpoint: string;
  /** GetSecretValue calls answered, by secret id. */
  readonly reads: Map<string, number>;
  stop(): Promise<void>;
}

export async function startSecretsManagerStandIn(secrets: Record<string, string>): Promise<SecretsManagerStandIn> {
  const reads = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const answer = (status: number, body: object) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(body));
      };
      if (request.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
        return answer(400, { __type: 'InvalidRequestException', message: 'only GetSecretValue is served here' });
      }
      const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: string };
      const value = SecretId === undefined ? undefined : secrets[SecretId];
      if (SecretId === undefined || value === undefined) {
        return answer(400, { __type: 'ResourceNotFoundException', message: 'Secrets Manager can’t find the specified secret.' });
      }
      reads.set(SecretId, (reads.get(SecretId) ?? 0) + 1);
      answer(200, {
        ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${SecretId}-AbCdEf`,
        Name: SecretId,
        SecretString: value,
        VersionId: '00000000-0000-4000-8000-000000000001',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_700_000_000,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    reads,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
