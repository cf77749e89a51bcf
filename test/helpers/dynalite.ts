import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** dynalite has no type declarations: its factory returns an http.Server. */
type DynaliteFactory = (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

const require = createRequire(import.meta.url);

export interface Dynalite {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** A new client on this dynalite (its own connections), with the SDK's retries off as in production; destroyed by stop(). */
  client(): DynamoDBClient;
  /** Destroys the clients made by client() and stops the server. */
  stop(): Promise<void>;
}

/**
 * An in-memory DynamoDB (dynalite) on a free port of 127.0.0.1, with tables created, updated and
 * deleted at once. Not DynamoDB: it does not implement `UpdateTimeToLive`, nor return the item of
 * a failed condition (`ReturnValuesOnConditionCheckFailure`), and ignores `SSESpecification`.
 */
export async function startDynalite(): Promise<Dynalite> {
  const dynalite = require('dynalite') as DynaliteFactory;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: DynamoDBClient[] = [];
  return {
    endpoint,
    client() {
      const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients.splice(0)) client.destroy();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
