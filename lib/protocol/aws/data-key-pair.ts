import { KEY_SPECS, KEY_SPEC_INFO, type KeySpec, isAsymmetric } from '../../crypto/key-spec.js';
import { InvalidParameterError, UnsupportedKeySpecError } from '../../errors.js';
import type { DataKeyPairInput } from '../../operations/data-key-pair.js';
import type { AwsBody, AwsScope } from './binding.js';
import { encryptionContext, keyId, refuse, text } from './fields.js';

/** The KeyPairSpecs served: every RSA and EC spec of the catalogue, by AWS's names. */
const PAIR_SPECS: ReadonlyMap<string, KeySpec> = new Map(KEY_SPECS.filter((s) => isAsymmetric(KEY_SPEC_INFO[s])).map((s) => [KEY_SPEC_INFO[s].awsName, s]));

/** KeyPairSpecs AWS lists that this service does not make (as CreateKey refuses them). */
const refusedReason = (name: string): string | undefined =>
  name === 'SM2'
    ? 'SM2 key pairs are not supported (nor SM2 keys: see CreateKey).'
    : name === 'ECC_NIST_EDWARDS25519'
      ? 'Ed25519 key pairs are not supported.'
      : /^ML_(DSA|KEM)_\d+$/.test(name)
        ? 'Post-quantum key pairs are not supported.'
        : undefined;

/** AWS's KeyPairSpec: an RSA or EC spec; one AWS lists but this service does not make is UnsupportedOperationException. */
export function keyPairSpec(body: AwsBody, name = 'KeyPairSpec'): KeySpec {
  const value = text(body, name, { required: true })!;
  const spec = PAIR_SPECS.get(value);
  if (spec) return spec;
  const refused = refusedReason(value);
  if (refused) throw new UnsupportedKeySpecError(name, refused);
  throw new InvalidParameterError(name, `It must be one of ${[...PAIR_SPECS.keys()].join(', ')}.`);
}

/** GenerateDataKeyPair's and GenerateDataKeyPairWithoutPlaintext's input. */
export function dataKeyPairRequest(body: AwsBody, scope: AwsScope): DataKeyPairInput {
  // A Recipient (a Nitro enclave's key) asks for the private key to be held back: not offered, so refused, never ignored.
  refuse(body, ['Recipient']);
  return { KeyId: keyId(body, scope), pairSpec: keyPairSpec(body), EncryptionContext: encryptionContext(body, 'EncryptionContext') };
}
