import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { type DataKeyPairOutput, dataKeyPairWork } from '../lib/operations/data-key-pair.js';
import { dataKeyPairRequest } from '../lib/protocol/aws/data-key-pair.js';
import { awsKeyArn } from '../lib/protocol/aws/shapes.js';

/**
 * GenerateDataKeyPairWithoutPlaintext (AWS only: Alibaba's 2016-01-20 API has no such Action, so its RPC answers 404
 * InvalidAction.NotFound): a new RSA or EC key pair: the public key (DER SPKI) and the private key (DER PKCS #8) sealed under a symmetric key, never in plaintext
 * (KeyId, which must be a symmetric encryption key; the EncryptionContext is bound to the sealed
 * private key, and Decrypt of PrivateKeyCiphertextBlob with the same context returns the PKCS #8).
 */
export const action = defineAction({
  name: 'GenerateDataKeyPairWithoutPlaintext',
  group: 'crypto',
  store: 'reads',
  aws: [
    {
      target: 'GenerateDataKeyPairWithoutPlaintext',
      dryRun: true,
      input: dataKeyPairRequest,
      output: (o: DataKeyPairOutput, c) => ({
        KeyId: awsKeyArn(c, o.KeyId),
        KeyPairSpec: o.KeyPairSpec,
        PublicKey: o.PublicKey,
        PrivateKeyCiphertextBlob: o.PrivateKeyCiphertextBlob,
      }),
    },
  ],
  ...dataKeyPairWork({ returnPrivateKey: false }),
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
