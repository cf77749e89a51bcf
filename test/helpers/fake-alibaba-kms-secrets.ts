import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for Alibaba Cloud KMS's secrets (RPC API 2016-01-20: GetSecretValue, PutSecretValue)
 * on 127.0.0.1, reached by the official SDK through ALIBABA_CLOUD_KMS_ENDPOINT (the SDK sends
 * every parameter in the query). Answers each secret's current text, or
 * Forbidden.ResourceNotFound as KMS does for a secret that does not exist; PutSecretValue makes a
 * new current version (a version id used before is refused, Rejected.ResourceExist). Records the
 * reads and writes; `refuse` makes the next calls of an Action fail with a code.
 */
export class FakeKmsSecrets {
  readonly secrets = new Map<string, string>();
  readonly reads: string[] = [];
  readonly writes: Array<{ secretName: string; secretData: string; versionId: string; secretDataType: string | null }> = [];
  /** An Action's calls answered with this error until removed. */
  readonly refuse = new Map<string, { status: number; code: string; message: string }>();
  readonly #versions = new Map<string, Set<string>>();
  #server: Server | undefined;
  endpoint = '';

  async start(): Promise<this> {
    this.#server = createServer((req, res) => this.#serve(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.endpoint = `127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  readsOf(name: string): number {
    return this.reads.filter((n) => n === name).length;
  }

  #serve(req: IncomingMessage, res: ServerResponse) {
    const query = new URL(req.url ?? '/', 'http://kms').searchParams;
    const action = query.get('Action') ?? '';
    const fail = (status: number, code: string, message: string) => {
      res.statusCode = status;
      res.end(JSON.stringify({ RequestId: 'r', Code: code, Message: message }));
    };
    res.setHeader('content-type', 'application/json');
    const refused = this.refuse.get(action);
    if (refused) return fail(refused.status, refused.code, refused.message);
    const name = query.get('SecretName') ?? '';
    if (action === 'GetSecretValue') {
      this.reads.push(name);
      const data = this.secrets.get(name);
      if (data === undefined) return fail(404, 'Forbidden.ResourceNotFound', 'The resource is not found.');
      res.end(
        JSON.stringify({
          RequestId: 'r',
          SecretName: name,
          SecretData: data,
          SecretDataType: 'text',
          VersionId: 'v1',
          VersionStages: { VersionStage: ['ACSCurrent'] },
        }),
      );
      return;
    }
    if (action === 'PutSecretValue') {
      const versionId = query.get('VersionId') ?? '';
      const secretData = query.get('SecretData') ?? '';
      if (!this.secrets.has(name)) return fail(404, 'Forbidden.ResourceNotFound', 'The resource is not found.');
      if (!versionId) return fail(400, 'MissingParameter', 'VersionId is mandatory for this action.');
      const versions = this.#versions.get(name) ?? new Set<string>();
      if (versions.has(versionId)) return fail(400, 'Rejected.ResourceExist', 'The resource already exists.');
      versions.add(versionId);
      this.#versions.set(name, versions);
      this.secrets.set(name, secretData);
      this.writes.push({ secretName: name, secretData, versionId, secretDataType: query.get('SecretDataType') });
      res.end(JSON.stringify({ RequestId: 'r', SecretName: name, VersionId: versionId, VersionStages: { VersionStage: ['ACSCurrent'] } }));
      return;
    }
    fail(400, 'InvalidAction', 'not served here');
  }
}
