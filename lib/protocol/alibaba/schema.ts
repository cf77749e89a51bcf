import * as z from '../../zod.js';
import { parseEncryptionContext } from '../../crypto/encryption-context.js';
import { keyReferenceProblem } from '../../keyring/key-id.js';
import { storedTextProblem } from '../../operations/stored-text.js';
import { PAGING_DEFAULTS } from '../../operations/paging.js';
import { parseEnvelope, type SealedBlob } from '../../crypto/envelope.js';
import { ASYMMETRIC_ENCRYPTION_ALGORITHMS, type SigningAlgorithm } from '../../crypto/key-spec.js';

export { validateInput } from './validate.js';

/**
 * Parameter schemas shared by operations. RPC parameters arrive as strings; these parse them into
 * typed values once, with the reason in the error message. The parameter name is added by
 * {@link validateInput} from the issue's path.
 */
export const keyIdParameter = z.string().check(
  z.minLength(1, { error: 'It must not be empty.' }),
  z.maxLength(2048, { error: 'It must be at most 2,048 characters.' }),
  z.superRefine((value, context) => {
    const problem = keyReferenceProblem(value);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  }),
);

export const ciphertextBlobParameter = z
  .string()
  .check(z.minLength(1, { error: 'It must not be empty.' }), z.maxLength(16_384, { error: 'It must be at most 16,384 characters.' }));

/** Text the service stores and returns (a Description): see {@link storedTextProblem}. */
export const storedTextParameter = (max: number) =>
  z.string().check(
    z.superRefine((text, context) => {
      const problem = storedTextProblem(text, max);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    }),
  );

export const booleanParameter = z.pipe(
  z.string().check(z.regex(/^(true|false)$/i, { error: 'It must be true or false.' })),
  z.transform((v: string) => v.toLowerCase() === 'true'),
);

export const encryptionContextParameter = (name: string) =>
  z.pipe(
    z.optional(z.union([z.string(), z.instanceof(Map<string, string>)], { error: 'It must be a JSON object of string keys and string values.' })),
    z.transform((value: string | Map<string, string> | undefined) => parseEncryptionContext(value, name)),
  );

/** An integer within [min, max], written in decimal. */
export const integerParameter = (min: number, max: number) => {
  const error = `It must be an integer from ${min} to ${max}.`;
  return z.pipe(z.pipe(z.string().check(z.regex(/^\d{1,9}$/, { error })), z.transform(Number)), z.number().check(z.gte(min, { error }), z.lte(max, { error })));
};

/** A parameter holding JSON text (`Tags`, `TagKeys`, `VersionStages`, `Filters`), parsed by its Action: at most 8,192 characters. */
export const jsonTextParameter = z.string().check(z.maxLength(8_192, { error: 'It must be at most 8,192 characters.' }));

/** PageNumber and PageSize of the List Actions. */
export const pagingParameters = {
  PageNumber: z.optional(integerParameter(1, PAGING_DEFAULTS.maxPageNumber)),
  PageSize: z.optional(integerParameter(1, PAGING_DEFAULTS.maxPageSize)),
};

/** The resource parameters of the tag Actions: exactly one of KeyId, SecretName, CertificateId (see taggedResource). */
export const tagResourceParameters = {
  KeyId: z.optional(keyIdParameter),
  SecretName: z.optional(z.string().check(z.maxLength(2048, { error: 'It must be at most 2,048 characters.' }))),
  CertificateId: z.optional(z.string().check(z.maxLength(2048, { error: 'It must be at most 2,048 characters.' }))),
};

/** The data-key parameters GenerateDataKey, GenerateDataKeyWithoutPlaintext and GenerateAndExportDataKey take. */
export const dataKeyParameters = {
  KeyId: keyIdParameter,
  KeySpec: z.optional(z.string()),
  NumberOfBytes: z.optional(integerParameter(1, 1024)),
  EncryptionContext: encryptionContextParameter('EncryptionContext'),
  DryRun: z.optional(booleanParameter),
};

/** A CiphertextBlob: its layout read once every parameter is valid (a blob's key is what it names). */
export function ciphertextBlobOf<T extends { CiphertextBlob: string }>(input: T): Omit<T, 'CiphertextBlob'> & { CiphertextBlob: SealedBlob } {
  return { ...input, CiphertextBlob: parseEnvelope(input.CiphertextBlob) };
}

/** A KeyVersionId (a UUID; anything else names no version, which the Action answers as 404). */
export const keyVersionIdParameter = z
  .string()
  .check(z.minLength(1, { error: 'It must not be empty.' }), z.maxLength(64, { error: 'It must be at most 64 characters.' }));

/** Base64 of 1 to `maxBytes` bytes, decoded (the Action owns and zeroes the buffer). */
export const base64BytesParameter = (maxBytes: number) =>
  z.pipe(
    z.string().check(
      z.regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, { error: 'It must be Base64-encoded binary data.' }),
      z.minLength(1, { error: 'It must not be empty.' }),
      z.refine((v) => (v.length / 4) * 3 - (v.endsWith('==') ? 2 : v.endsWith('=') ? 1 : 0) <= maxBytes, { error: `It must hold at most ${maxBytes} bytes.` }),
    ),
    z.transform((v: string) => Buffer.from(v, 'base64')),
  );

/** Alibaba's signing algorithms, as AWS names them (the names the service uses). */
export const signingAlgorithmParameter = z.pipe(
  z.enum(['RSA_PSS_SHA_256', 'RSA_PKCS1_SHA_256', 'ECDSA_SHA_256'], { error: 'It must be RSA_PSS_SHA_256, RSA_PKCS1_SHA_256 or ECDSA_SHA_256.' }),
  z.transform(
    (name): SigningAlgorithm =>
      name === 'RSA_PSS_SHA_256' ? 'RSASSA_PSS_SHA_256' : name === 'RSA_PKCS1_SHA_256' ? 'RSASSA_PKCS1_V1_5_SHA_256' : 'ECDSA_SHA_256',
  ),
);

/** Alibaba's asymmetric encryption algorithms (the same names as AWS's). */
export const asymmetricEncryptionAlgorithmParameter = z.enum(ASYMMETRIC_ENCRYPTION_ALGORITHMS, { error: 'It must be RSAES_OAEP_SHA_256 or RSAES_OAEP_SHA_1.' });
