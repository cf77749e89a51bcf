import { constants, createHash, publicEncrypt } from 'node:crypto';
import fc from 'fast-check';
import { nastyString, type PairsArbitrary, type ParamGenerator, PROTOTYPE_NAMES, seededKeyReference } from './fuzz.js';

/**
 * The fuzzing of the Actions of asymmetric and HMAC keys (AsymmetricSign/Verify/Encrypt/Decrypt,
 * GetPublicKey, and the MAC Actions where the Alibaba API has them): a fixture of keys of every kind
 * in the fuzzed service, with real signatures, ciphertexts and MACs, and generators that put them
 * (and their mutations) into requests, so fuzzed requests get past validation to the cryptography.
 */

/** A key the fixture made, with its one version. */
export interface FixtureKey {
  keyId: string;
  keyVersionId: string;
}

/** Keys of every kind but the symmetric ones the seed has, and real outputs made with them. */
export interface KeyKindsFixture {
  /** RSA_2048 SIGN/VERIFY and EC_P256. */
  signing: readonly FixtureKey[];
  /** RSA_2048 ENCRYPT/DECRYPT. */
  encryption: readonly FixtureKey[];
  /** HMAC_256. */
  mac: readonly FixtureKey[];
  /** Base64 of the SHA-256 digest that `signatures` sign. */
  digest: string;
  /** Base64 signatures of `digest` by the signing keys (PSS, PKCS #1 and ECDSA). */
  signatures: readonly string[];
  /** Base64 RSAES-OAEP ciphertexts under the encryption key, made outside with its public key (SHA-256 and SHA-1). */
  ciphertexts: readonly string[];
  /** Base64 of the message `macs` are of, and Base64 MACs of it (empty when the Alibaba API has no MAC Action). */
  macMessage: string;
  macs: readonly string[];
}

/** Every key id the fixture made. */
export const fixtureKeyIds = (f: KeyKindsFixture) => [...f.signing, ...f.encryption, ...f.mac].map((k) => k.keyId);

type Ok = (action: string, params: Record<string, string>) => Promise<Record<string, any>>;
type Call = (action: string, params: Record<string, string>) => Promise<{ status: number; body: Record<string, any> }>;

/** Makes the keys through CreateKey, and their signatures, ciphertexts and MACs through the Actions themselves. */
export async function keyKindsFixture(ok: Ok, call: Call): Promise<KeyKindsFixture> {
  const make = async (params: Record<string, string>): Promise<FixtureKey> => {
    const keyId = (await ok('CreateKey', params)).KeyMetadata.KeyId as string;
    const keyVersionId = (await ok('ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0].KeyVersionId as string;
    return { keyId, keyVersionId };
  };
  const [rsaSign, ec, rsaEncrypt, hmac] = await Promise.all([
    make({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN/VERIFY' }),
    make({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' }),
    make({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' }),
    make({ KeySpec: 'HMAC_256' }),
  ]);
  const digest = createHash('sha256').update('fuzz').digest('base64');
  const sign = async (key: FixtureKey, Algorithm: string) =>
    (await ok('AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.keyVersionId, Algorithm, Digest: digest })).Value as string;
  const signatures = [await sign(rsaSign!, 'RSA_PSS_SHA_256'), await sign(rsaSign!, 'RSA_PKCS1_SHA_256'), await sign(ec!, 'ECDSA_SHA_256')];
  const publicKey = (await ok('GetPublicKey', { KeyId: rsaEncrypt!.keyId, KeyVersionId: rsaEncrypt!.keyVersionId })).PublicKey as string;
  const ciphertexts = (['sha256', 'sha1'] as const).map((oaepHash) =>
    publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, Buffer.from(`fuzz ${oaepHash}`)).toString('base64'),
  );
  const macMessage = Buffer.from('fuzz').toString('base64');
  const mac = await call('GenerateMac', { KeyId: hmac!.keyId, Message: macMessage, MacAlgorithm: 'HMAC_SHA_256' });
  const macs = mac.status === 200 && typeof mac.body.Mac === 'string' ? [mac.body.Mac as string] : [];
  return { signing: [rsaSign!, ec!], encryption: [rsaEncrypt!], mac: [hmac!], digest, signatures, ciphertexts, macMessage, macs };
}

const SIGNING_ACTIONS = new Set(['AsymmetricSign', 'AsymmetricVerify']);
const ENCRYPTION_ACTIONS = new Set(['AsymmetricEncrypt', 'AsymmetricDecrypt']);
const MAC_ACTIONS = new Set(['GenerateMac', 'VerifyMac']);
/** The Actions this fixture is for (everything else uses it only now and then, for a wrong-usage request). */
export const KEY_KIND_ACTIONS: ReadonlySet<string> = new Set([...SIGNING_ACTIONS, ...ENCRYPTION_ACTIONS, ...MAC_ACTIONS, 'GetPublicKey']);

const ALIBABA_SIGNING = ['RSA_PSS_SHA_256', 'RSA_PKCS1_SHA_256', 'ECDSA_SHA_256'] as const;
const OAEP = ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1'] as const;
/** Algorithm names that are near misses: AWS's spellings, SM2, other hashes, case and spaces. */
const NEAR_ALGORITHMS = [
  'RSASSA_PSS_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_256',
  'ECDSA_SHA_384',
  'RSA_PSS_SHA_384',
  'SM2DSA',
  'SM2PKE',
  'RSAES_PKCS1_V1_5',
  'RSAES_OAEP_SHA_512',
  'HMAC_SHA_256',
  'HMAC_SHA_512',
  'SYMMETRIC_DEFAULT',
  'rsa_pss_sha_256',
  'ECDSA_SHA_256 ',
  ' RSAES_OAEP_SHA_256',
  ...PROTOTYPE_NAMES,
];

const base64Of = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((u) => Buffer.from(u).toString('base64'));

/** Real Base64 values and their mutations: truncated, a bit flipped, URL-safe, padded wrongly, random bytes, nasty text. */
function mutated(real: readonly string[], randomBytes: [number, number]): fc.Arbitrary<string> {
  const reals = real.length > 0 ? [fc.constantFrom(...real)] : [];
  const derived =
    real.length > 0
      ? [
          fc.tuple(fc.constantFrom(...real), fc.nat()).map(([b, n]) => {
            const bytes = Buffer.from(b, 'base64');
            return bytes.subarray(0, n % bytes.length).toString('base64');
          }),
          fc.tuple(fc.constantFrom(...real), fc.nat(), fc.integer({ min: 0, max: 7 })).map(([b, n, bit]) => {
            const bytes = Buffer.from(b, 'base64');
            bytes[n % bytes.length]! ^= 1 << bit;
            return bytes.toString('base64');
          }),
          fc.constantFrom(...real).map((b) => b.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')),
          fc.tuple(fc.constantFrom(...real), fc.constantFrom('=', '==', '\n', ' ', 'A', '\u0000')).map(([b, s]) => `${b}${s}`),
        ]
      : [];
  return fc.oneof(...reals, ...derived, base64Of(...randomBytes), fc.constantFrom('', '=', '====', 'A'.repeat(8000)), nastyString);
}

/**
 * The base generator, with the key-kind parameters taken over: for the key-kind Actions, `KeyId`
 * and `KeyVersionId` name the fixture's keys of the kind the Action needs (mostly), and
 * `Algorithm`, `Digest`, `Value`, `Plaintext`, `CiphertextBlob`, `Message`, `Mac`, `MacAlgorithm`
 * carry values those keys accept; for every other Action, `KeyId` now and then names one of these
 * keys, so the symmetric Actions meet keys they must refuse.
 */
export function withKeyKinds(base: ParamGenerator, f: KeyKindsFixture): ParamGenerator {
  const one = (arb: fc.Arbitrary<string>) => (name: string) => arb.map((v): Array<[string, string]> => [[name, v]]);
  const keysFor = (action: string): readonly FixtureKey[] =>
    SIGNING_ACTIONS.has(action) ? f.signing : ENCRYPTION_ACTIONS.has(action) ? f.encryption : MAC_ACTIONS.has(action) ? f.mac : [...f.signing, ...f.encryption];
  const allKeyIds = fixtureKeyIds(f);
  const digest = fc.oneof({ weight: 3, arbitrary: fc.constant(f.digest) }, { weight: 2, arbitrary: base64Of(32, 32) });
  const algorithmsFor = (action: string): readonly string[] => (SIGNING_ACTIONS.has(action) ? ALIBABA_SIGNING : OAEP);

  const valid: Record<string, (name: string, action: string) => PairsArbitrary | undefined> = {
    KeyId: (name, action) =>
      KEY_KIND_ACTIONS.has(action)
        ? one(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...keysFor(action).map((k) => k.keyId)) }, { weight: 1, arbitrary: seededKeyReference }))(name)
        : fc.oneof({ weight: 6, arbitrary: base.valid(name, action) }, { weight: 1, arbitrary: one(fc.constantFrom(...allKeyIds))(name) }),
    KeyVersionId: (name, action) => (KEY_KIND_ACTIONS.has(action) ? one(fc.constantFrom(...keysFor(action).map((k) => k.keyVersionId)))(name) : undefined),
    Algorithm: (name, action) => (KEY_KIND_ACTIONS.has(action) ? one(fc.constantFrom(...algorithmsFor(action)))(name) : undefined),
    Digest: one(digest),
    Value: one(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...f.signatures) }, { weight: 1, arbitrary: base64Of(64, 256) })),
    Plaintext: (name, action) => (action === 'AsymmetricEncrypt' ? one(base64Of(1, 190))(name) : undefined),
    CiphertextBlob: (name, action) => (action === 'AsymmetricDecrypt' ? one(fc.constantFrom(...f.ciphertexts))(name) : undefined),
    Message: one(fc.oneof({ weight: 3, arbitrary: fc.constant(f.macMessage) }, { weight: 1, arbitrary: base64Of(0, 64) })),
    MacAlgorithm: one(fc.constant('HMAC_SHA_256')),
    Mac: one(f.macs.length > 0 ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...f.macs) }, { weight: 1, arbitrary: base64Of(32, 32) }) : base64Of(32, 32)),
  };
  const any: Record<string, (name: string, action: string) => PairsArbitrary | undefined> = {
    KeyId: (name, action) => fc.oneof({ weight: 3, arbitrary: base.any(name, action) }, { weight: 1, arbitrary: one(fc.constantFrom(...allKeyIds))(name) }),
    KeyVersionId: (name, action) =>
      fc.oneof(
        { weight: 2, arbitrary: base.any(name, action) },
        { weight: 1, arbitrary: one(fc.constantFrom(...[...f.signing, ...f.encryption, ...f.mac].map((k) => k.keyVersionId)))(name) },
      ),
    Algorithm: one(fc.oneof(fc.constantFrom(...ALIBABA_SIGNING, ...OAEP), fc.constantFrom(...NEAR_ALGORITHMS), nastyString)),
    Digest: one(
      fc.oneof({ weight: 2, arbitrary: mutated([f.digest], [0, 80]) }, { weight: 1, arbitrary: base64Of(20, 20) }, { weight: 1, arbitrary: base64Of(48, 64) }),
    ),
    Value: one(mutated(f.signatures, [0, 600])),
    Plaintext: (name, action) =>
      action === 'AsymmetricEncrypt'
        ? one(
            fc.oneof(
              { weight: 3, arbitrary: base64Of(0, 260) },
              { weight: 1, arbitrary: fc.constantFrom('x', 'é', '🔑') },
              { weight: 1, arbitrary: nastyString },
            ),
          )(name)
        : undefined,
    CiphertextBlob: (name, action) => (action === 'AsymmetricDecrypt' ? one(mutated(f.ciphertexts, [0, 600]))(name) : undefined),
    Message: one(fc.oneof(mutated([f.macMessage], [0, 5000]), fc.constant('A'.repeat(5464)), fc.constant('A'.repeat(5468)))),
    MacAlgorithm: one(
      fc.oneof(fc.constantFrom('HMAC_SHA_256', 'HMAC_SHA_224', 'HMAC_SHA_384', 'HMAC_SHA_512'), fc.constantFrom(...NEAR_ALGORITHMS), nastyString),
    ),
    Mac: one(mutated(f.macs, [0, 100])),
  };
  const pick = (
    table: Record<string, (name: string, action: string) => PairsArbitrary | undefined>,
    name: string,
    action: string,
  ): PairsArbitrary | undefined => (Object.hasOwn(table, name) ? table[name]!(name, action) : undefined);
  return {
    valid: (name, action) => pick(valid, name, action) ?? base.valid(name, action),
    any: (name, action) => pick(any, name, action) ?? base.any(name, action),
  };
}
