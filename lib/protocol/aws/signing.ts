import { DIGEST_BYTES, hashOf } from '../../crypto/key-spec.js';
import { InvalidParameterError } from '../../errors.js';
import type { SigningInput } from '../../operations/signing.js';
import type { AwsBody, AwsScope } from './binding.js';
import { binary, keyId, signingAlgorithm, text } from './fields.js';

/** AWS's limit on Sign's and Verify's Message ("Messages can be 0-4096 bytes"; the SDK's minimum is 1). */
export const MAX_MESSAGE_BYTES = 4096;

/**
 * Sign's input (Verify adds `Signature`): KeyId, SigningAlgorithm, and a Message that is the
 * message (`MessageType` RAW, the default) or its digest (DIGEST: exactly the algorithm's hash
 * length, else a ValidationException naming Message). GrantTokens are read by no one, as grants do
 * not exist here.
 */
export function signingRequest(body: AwsBody, scope: AwsScope): SigningInput {
  const KeyId = keyId(body, scope);
  const SigningAlgorithm = signingAlgorithm(body);
  const messageType = text(body, 'MessageType') ?? 'RAW';
  if (messageType !== 'RAW' && messageType !== 'DIGEST') throw new InvalidParameterError('MessageType', 'It must be RAW or DIGEST.');
  const message = binary(body, 'Message', MAX_MESSAGE_BYTES);
  if (messageType === 'RAW') return { KeyId, SigningAlgorithm, Message: message };
  const length = DIGEST_BYTES[hashOf(SigningAlgorithm)];
  if (message.length !== length) {
    message.fill(0);
    throw new InvalidParameterError('Message', `With MessageType DIGEST it must be the ${length}-byte digest ${SigningAlgorithm} signs.`);
  }
  return { KeyId, SigningAlgorithm, Digest: message };
}
