import { type Command, Option } from 'commander';
import { releaseHangups } from '../gateway/hangup.js';
import { main as runGateway } from '../gateway/main.js';
import { integer } from './common.js';
import { CliError, EXIT } from './exit-codes.js';

/**
 * `kms serve`: the local gateway, exactly as `npm start` runs it (infra/gateway/main.ts). Flags
 * override the KMS_* environment variables of the same meaning; everything else (KMS_REGION,
 * KMS_CACHE_TTL_MS, KMS_LOG_LEVEL, …) is read from the environment as usual.
 */
export function registerServe(program: Command): void {
  const serve = program.command('serve');
  // bin/kms.mjs kept SIGHUP from ending the process while it loaded: the gateway keeps it so (see
  // infra/gateway/hangup.ts); every other command gets the signal's default action back.
  program.hook('preAction', (_, action) => {
    if (action !== serve) releaseHangups();
  });
  serve
    .description('run the local gateway (as npm start): the API over the file store; SIGINT/SIGTERM stop it')
    .addOption(new Option('--host <address>', 'listen address (KMS_HOST, default 127.0.0.1)'))
    .addOption(new Option('--port <port>', 'port, 0 for any free one (KMS_PORT, default 8080)').argParser(integer(0, 65535)))
    .addOption(new Option('--data-dir <dir>', 'the key store directory (KMS_DATA_DIR, default ./.kms-data)'))
    .addOption(new Option('--seed <file>', 'a seed file applied at start (KMS_SEED_FILE)'))
    .addOption(new Option('--tls-cert <file>', 'the server certificate, PEM (KMS_TLS_CERT); with --tls-key, the gateway speaks HTTPS'))
    .addOption(new Option('--tls-key <file>', 'its private key, PEM (KMS_TLS_KEY)'))
    .addOption(new Option('--tls-client-ca <file>', 'require client certificates from this CA, PEM (KMS_TLS_CLIENT_CA): mutual TLS'))
    .action(async (options: { host?: string; port?: number; dataDir?: string; seed?: string; tlsCert?: string; tlsKey?: string; tlsClientCa?: string }) => {
      const env: NodeJS.ProcessEnv = { ...process.env };
      if (options.host !== undefined) env.KMS_HOST = options.host;
      if (options.port !== undefined) env.KMS_PORT = String(options.port);
      if (options.dataDir !== undefined) env.KMS_DATA_DIR = options.dataDir;
      if (options.seed !== undefined) env.KMS_SEED_FILE = options.seed;
      if (options.tlsCert !== undefined) env.KMS_TLS_CERT = options.tlsCert;
      if (options.tlsKey !== undefined) env.KMS_TLS_KEY = options.tlsKey;
      if (options.tlsClientCa !== undefined) env.KMS_TLS_CLIENT_CA = options.tlsClientCa;
      try {
        // Resolves once the gateway is ready; it then runs until a signal stops it.
        await runGateway(env);
      } catch (err) {
        throw new CliError(EXIT.UNAVAILABLE, `kms gateway failed to start: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
}
