import { InvalidParameterError } from '../../errors.js';
import type { AwsBody } from './binding.js';
import { absent, field } from './json.js';

/**
 * AWS Encrypt and Decrypt with an RSAES_* EncryptionAlgorithm take no EncryptionContext ("not
 * supported for asymmetric algorithms"): one given is a 400 naming it, never silently dropped
 * (the caller would believe the ciphertext bound to it).
 */
export function refuseEncryptionContext(body: AwsBody): void {
  if (!absent(field(body, 'EncryptionContext'))) {
    throw new InvalidParameterError('EncryptionContext', 'It is not supported with the RSAES_OAEP_* encryption algorithms of RSA keys.');
  }
}
