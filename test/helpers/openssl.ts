import { execFile } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The `-sigopt`s of a signing algorithm: PSS with a salt as long as the digest (`-1`), as Alibaba's guide verifies. */
const sigopts = (pss: boolean) => (pss ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:-1'] : []);
/** The `-pkeyopt`s of RSAES-OAEP with `hash` for OAEP and MGF1, as Alibaba's guide decrypts. */
const oaepOpts = (hash: string) => ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${hash}`, '-pkeyopt', `rsa_mgf1_md:${hash}`];

/**
 * The `openssl` command as a third-party implementation to check our cryptography against: each
 * call writes its keys and inputs to files in a temporary directory (made once; {@link close}
 * removes it) and runs the command the vendors' guides give.
 */
export class OpenSsl {
  private constructor(private readonly dir: string) {}
  private files = 0;

  static async open(): Promise<OpenSsl> {
    return new OpenSsl(await mkdtemp(join(tmpdir(), 'kms-openssl-')));
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  private async file(content: string | Buffer): Promise<string> {
    const path = join(this.dir, `f${this.files++}`);
    await writeFile(path, content);
    return path;
  }

  private async pem(key: KeyObject): Promise<string> {
    return this.file(key.type === 'private' ? key.export({ type: 'pkcs8', format: 'pem' }) : key.export({ type: 'spki', format: 'pem' }));
  }

  /** `openssl dgst -<hash> -verify pub.pem -signature sig msg`: whether it says Verified OK. */
  async verify(publicKey: KeyObject, hash: string, message: Buffer, signature: Buffer, pss: boolean): Promise<boolean> {
    const args = [
      'dgst',
      `-${hash}`,
      '-verify',
      await this.pem(publicKey),
      ...sigopts(pss),
      '-signature',
      await this.file(signature),
      await this.file(message),
    ];
    try {
      const { stdout } = await run('openssl', args);
      return stdout.includes('Verified OK');
    } catch {
      return false;
    }
  }

  /** `openssl dgst -<hash> -sign priv.pem msg`: a signature of the message. */
  async sign(privateKey: KeyObject, hash: string, message: Buffer, pss: boolean): Promise<Buffer> {
    const out = join(this.dir, `f${this.files++}`);
    await run('openssl', ['dgst', `-${hash}`, '-sign', await this.pem(privateKey), ...sigopts(pss), '-out', out, await this.file(message)]);
    return readFile(out);
  }

  /** `openssl pkeyutl -encrypt -pubin` with RSAES-OAEP. */
  async oaepEncrypt(publicKey: KeyObject, hash: string, plaintext: Buffer): Promise<Buffer> {
    const out = join(this.dir, `f${this.files++}`);
    await run('openssl', [
      'pkeyutl',
      '-encrypt',
      '-pubin',
      '-inkey',
      await this.pem(publicKey),
      ...oaepOpts(hash),
      '-in',
      await this.file(plaintext),
      '-out',
      out,
    ]);
    return readFile(out);
  }

  /** `openssl pkeyutl -decrypt` with RSAES-OAEP. */
  async oaepDecrypt(privateKey: KeyObject, hash: string, ciphertext: Buffer): Promise<Buffer> {
    const out = join(this.dir, `f${this.files++}`);
    await run('openssl', ['pkeyutl', '-decrypt', '-inkey', await this.pem(privateKey), ...oaepOpts(hash), '-in', await this.file(ciphertext), '-out', out]);
    return readFile(out);
  }
}
