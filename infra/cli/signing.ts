import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { createKmsClient, DEFAULT_AWS_REGION, type KmsApiClient, type MacAlgorithmName, type SigningAlgorithmName } from '@alibaba-kms-compatible/client';
import { connectionOf } from './common.js';
import { CliError, EXIT, usageError } from './exit-codes.js';
import { emit } from './output.js';

const SIGNING_ALGORITHMS: readonly SigningAlgorithmName[] = ['RSA_PSS_SHA_256', 'RSA_PKCS1_SHA_256', 'ECDSA_SHA_256'];
const MAC_ALGORITHMS: readonly MacAlgorithmName[] = ['HMAC_SHA_224', 'HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512'];

interface KeyOptions {
  keyId: string;
  keyVersionId?: string;
}

interface DigestOptions extends KeyOptions {
  algorithm: SigningAlgorithmName;
  messageFile?: string;
  digest?: string;
}

interface MacOptions {
  keyId: string;
  algorithm?: MacAlgorithmName;
  messageFile?: string;
  message?: string;
  awsRegion: string;
}

/** The typed client of the global options; `awsRegion` for the AWS-protocol calls (the MAC commands). */
function apiOf(command: Command, awsRegion?: string): KmsApiClient {
  return createKmsClient({ ...connectionOf(command), ...(awsRegion ? { awsRegion } : {}) });
}

/** A file's bytes; `-` is stdin. A file that cannot be read is "unavailable" (exit 3), as for the file commands. */
async function readInput(path: string, flag: string): Promise<Buffer> {
  try {
    if (path === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }
    return readFileSync(path);
  } catch (err) {
    throw new CliError(EXIT.UNAVAILABLE, `${flag}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** SHA-256 of a file, read as a stream (any size); `-` is stdin. Every signing algorithm here hashes with SHA-256. */
async function sha256Of(path: string): Promise<Buffer> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of path === '-' ? process.stdin : createReadStream(path)) hash.update(chunk as Buffer);
  } catch (err) {
    throw new CliError(EXIT.UNAVAILABLE, `--message-file: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return hash.digest();
}

/** The Base64 digest to sign or verify: --digest as given, or SHA-256 of --message-file. */
async function digestOf(options: DigestOptions): Promise<string> {
  if ((options.digest === undefined) === (options.messageFile === undefined)) throw usageError('give exactly one of --message-file and --digest');
  return options.digest ?? (await sha256Of(options.messageFile!)).toString('base64');
}

/** The version to use: --key-version-id, else the key's newest (ListKeyVersions). */
async function versionOf(api: KmsApiClient, options: KeyOptions): Promise<string> {
  return options.keyVersionId ?? (await api.newestKeyVersionId(options.keyId));
}

/** The message to MAC: --message (Base64) or --message-file. */
async function macMessageOf(options: MacOptions): Promise<Buffer | string> {
  if ((options.message === undefined) === (options.messageFile === undefined)) throw usageError('give exactly one of --message-file and --message');
  return options.message ?? (await readInput(options.messageFile!, '--message-file'));
}

/** --algorithm, else the one MAC algorithm of the key's spec (DescribeKey: HMAC_256 → HMAC_SHA_256). */
async function macAlgorithmOf(api: KmsApiClient, options: MacOptions): Promise<MacAlgorithmName> {
  if (options.algorithm) return options.algorithm;
  const metadata = (await api.call('DescribeKey', { KeyId: options.keyId })).KeyMetadata as { KeySpec?: string } | undefined;
  const bits = /^HMAC_(224|256|384|512)$/.exec(metadata?.KeySpec ?? '')?.[1];
  if (!bits) throw new CliError(EXIT.REFUSED, `Key "${options.keyId}" is not an HMAC key (KeySpec ${metadata?.KeySpec ?? 'unknown'}).`, 'UnsupportedOperation');
  return `HMAC_SHA_${bits}` as MacAlgorithmName;
}

const keyIdOption = () => new Option('--key-id <key>', 'key id, alias/<name> or ARN').makeOptionMandatory();
const keyVersionOption = () => new Option('--key-version-id <id>', "the key version (default: the key's newest, from ListKeyVersions)");
const signingAlgorithmOption = () => new Option('--algorithm <algorithm>', 'the signing algorithm').choices(SIGNING_ALGORITHMS).makeOptionMandatory();
const messageFileOption = () => new Option('--message-file <file>', 'the message, hashed here with SHA-256 (- for stdin)').conflicts('digest');
const digestOption = () => new Option('--digest <base64>', 'the SHA-256 digest of the message, Base64 (32 bytes)').conflicts('messageFile');
const macAlgorithmOption = () => new Option('--algorithm <algorithm>', "the MAC algorithm (default: the key's, from DescribeKey)").choices(MAC_ALGORITHMS);
const macMessageFileOption = () => new Option('--message-file <file>', 'the message, 1–4096 bytes (- for stdin)').conflicts('message');
const macMessageOption = () => new Option('--message <base64>', 'the message, Base64 (1–4096 bytes)').conflicts('messageFile');
const awsRegionOption = () =>
  new Option('--aws-region <region>', 'the region the AWS-protocol request is signed for (one the service serves)').default(DEFAULT_AWS_REGION);

/**
 * `kms sign`, `kms verify`, `kms public-key` (AsymmetricSign, AsymmetricVerify, GetPublicKey, with
 * the key's newest version unless one is named), and `kms mac`, `kms verify-mac` (GenerateMac,
 * VerifyMac: AWS-protocol operations, which the Alibaba API does not have). A signature or MAC
 * that does not verify is a refusal (exit 1, `InvalidSignature` / `InvalidMac`), so that
 * `kms verify … && deploy` does what it says.
 */
export function registerSigning(program: Command): void {
  program
    .command('sign')
    .description('sign a message (hashed here with SHA-256) or its digest with an RSA or EC key (AsymmetricSign); prints the Base64 signature')
    .addOption(keyIdOption())
    .addOption(keyVersionOption())
    .addOption(signingAlgorithmOption())
    .addOption(messageFileOption())
    .addOption(digestOption())
    .action(async (options: DigestOptions, command: Command) => {
      const digest = await digestOf(options);
      const api = apiOf(command);
      const signed = await api.sign(options.keyId, await versionOf(api, options), options.algorithm, digest);
      emit(command, { KeyId: signed.keyId, KeyVersionId: signed.keyVersionId, Algorithm: options.algorithm, Signature: signed.signature.toString('base64') });
    });

  program
    .command('verify')
    .description('verify a signature of a message or its digest (AsymmetricVerify); a signature that does not verify exits 1 (InvalidSignature)')
    .addOption(keyIdOption())
    .addOption(keyVersionOption())
    .addOption(signingAlgorithmOption())
    .addOption(messageFileOption())
    .addOption(digestOption())
    .requiredOption('--signature <base64>', 'the signature, Base64 (DER for ECDSA)')
    .action(async (options: DigestOptions & { signature: string }, command: Command) => {
      const digest = await digestOf(options);
      const api = apiOf(command);
      const keyVersionId = await versionOf(api, options);
      if (!(await api.verify(options.keyId, keyVersionId, options.algorithm, digest, options.signature))) {
        throw new CliError(EXIT.REFUSED, 'The signature does not verify for this message (or digest), key version and algorithm.', 'InvalidSignature');
      }
      emit(command, { KeyId: options.keyId, KeyVersionId: keyVersionId, Algorithm: options.algorithm, SignatureValid: true });
    });

  program
    .command('public-key')
    .description("a key version's public key, PEM (GetPublicKey); --pem prints the PEM alone, for openssl")
    .addOption(keyIdOption())
    .addOption(keyVersionOption())
    .option('--pem', 'print only the PEM (-----BEGIN PUBLIC KEY-----)')
    .action(async (options: KeyOptions & { pem?: boolean }, command: Command) => {
      const api = apiOf(command);
      const found = await api.getPublicKey(options.keyId, await versionOf(api, options));
      if (options.pem) process.stdout.write(found.publicKeyPem.endsWith('\n') ? found.publicKeyPem : `${found.publicKeyPem}\n`);
      else emit(command, { KeyId: found.keyId, KeyVersionId: found.keyVersionId, PublicKey: found.publicKeyPem });
    });

  program
    .command('mac')
    .description('the HMAC of a message with an HMAC key (GenerateMac, AWS protocol); prints the Base64 MAC')
    .addOption(keyIdOption())
    .addOption(macAlgorithmOption())
    .addOption(macMessageFileOption())
    .addOption(macMessageOption())
    .addOption(awsRegionOption())
    .action(async (options: MacOptions, command: Command) => {
      const message = await macMessageOf(options);
      const api = apiOf(command, options.awsRegion);
      const made = await api.generateMac(options.keyId, await macAlgorithmOf(api, options), message);
      if (Buffer.isBuffer(message)) message.fill(0);
      emit(command, { KeyId: made.keyId, MacAlgorithm: made.macAlgorithm, Mac: made.mac.toString('base64') });
    });

  program
    .command('verify-mac')
    .description('verify the HMAC of a message (VerifyMac, AWS protocol); a MAC that does not verify exits 1 (InvalidMac)')
    .addOption(keyIdOption())
    .addOption(macAlgorithmOption())
    .addOption(macMessageFileOption())
    .addOption(macMessageOption())
    .requiredOption('--mac <base64>', 'the MAC, Base64')
    .addOption(awsRegionOption())
    .action(async (options: MacOptions & { mac: string }, command: Command) => {
      const message = await macMessageOf(options);
      const api = apiOf(command, options.awsRegion);
      const algorithm = await macAlgorithmOf(api, options);
      const valid = await api.verifyMac(options.keyId, algorithm, message, options.mac);
      if (Buffer.isBuffer(message)) message.fill(0);
      if (!valid) throw new CliError(EXIT.REFUSED, 'The MAC does not verify for this message, key and algorithm.', 'InvalidMac');
      emit(command, { KeyId: options.keyId, MacAlgorithm: algorithm, MacValid: true });
    });
}
