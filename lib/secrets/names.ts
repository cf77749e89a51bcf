import { randomInt } from 'node:crypto';
import { InvalidParameterError } from '../errors.js';
import type { ArnScope } from '../keyring/key-id.js';

/*
 * Secret names, version ids and the two ARNs of a secret. One rule for both protocols (Alibaba's,
 * the narrower): a name is 1–192 of `A-Z a-z 0-9 _ / + = . - @` and does not start with `acs/`.
 * A name holds no `:`, so a name and an ARN are never confused.
 */

export const MAX_SECRET_NAME = 192;
/** Version ids: Alibaba's VersionId has at most 64 characters; AWS's ClientRequestToken 32–64 (that protocol checks its own minimum). */
export const MAX_VERSION_ID = 64;
/** AWS's stage labels have 1–256 characters; Alibaba publishes no limit. */
export const MAX_STAGE_LABEL = 256;
/** The random part of a secret's AWS ARN: fixed at creation, new for a re-created name. */
export const ARN_SUFFIX_LENGTH = 6;

const NAME = /^[A-Za-z0-9_/+=.\-@]+$/;
const SUFFIX = /^[A-Za-z0-9]{6}$/;
const SUFFIX_CHARACTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Controls, lone surrogates, U+FFFE/U+FFFF: never in an id or a label (they could not be echoed in XML). */
const UNPRINTABLE = /[\p{Cc}\p{Cs}\uFFFE\uFFFF]/u;

/** Why `name` is no secret name, or undefined when it is one. */
export function secretNameProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > MAX_SECRET_NAME) return `A secret name has 1 to ${MAX_SECRET_NAME} characters.`;
  if (!NAME.test(name)) return 'A secret name holds A-Z a-z 0-9 and _ / + = . - @ only.';
  if (name.startsWith('acs/')) return "A secret name may not start with acs/ (the cloud provider's managed secrets).";
  return undefined;
}

export function isSecretName(name: string): boolean {
  return secretNameProblem(name) === undefined;
}

/** Throws {@link InvalidParameterError} on `parameter` unless `name` is a secret name. */
export function assertSecretName(name: string, parameter = 'SecretName'): void {
  const problem = secretNameProblem(name);
  if (problem) throw new InvalidParameterError(parameter, problem);
}

/** Why `versionId` is no version id of the store (1–64 printable characters), or undefined. */
export function versionIdProblem(versionId: string): string | undefined {
  if (versionId.length < 1 || versionId.length > MAX_VERSION_ID) return `A version id has 1 to ${MAX_VERSION_ID} characters.`;
  if (UNPRINTABLE.test(versionId)) return 'A version id holds printable characters only.';
  return undefined;
}

export function assertVersionId(versionId: string, parameter = 'VersionId'): void {
  const problem = versionIdProblem(versionId);
  if (problem) throw new InvalidParameterError(parameter, problem);
}

/** Why `label` is no stage label (1–256 printable characters), or undefined. */
export function stageLabelProblem(label: string): string | undefined {
  if (label.length < 1 || label.length > MAX_STAGE_LABEL) return `A version stage has 1 to ${MAX_STAGE_LABEL} characters.`;
  if (UNPRINTABLE.test(label)) return 'A version stage holds printable characters only.';
  return undefined;
}

export function assertStageLabel(label: string, parameter = 'VersionStage'): void {
  const problem = stageLabelProblem(label);
  if (problem) throw new InvalidParameterError(parameter, problem);
}

/** A new random ARN suffix: 6 ASCII letters and digits. */
export function newArnSuffix(): string {
  let suffix = '';
  for (let i = 0; i < ARN_SUFFIX_LENGTH; i++) suffix += SUFFIX_CHARACTERS[randomInt(SUFFIX_CHARACTERS.length)];
  return suffix;
}

export function isArnSuffix(value: string): boolean {
  return SUFFIX.test(value);
}

/** Alibaba's ARN of a secret: `acs:kms:<region>:<account>:secret/<name>`. */
export function acsSecretArn(scope: ArnScope, name: string): string {
  return `acs:kms:${scope.region}:${scope.accountId}:secret/${name}`;
}

/** AWS's ARN of a secret: `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>`; the region is the one the caller is answered in. */
export function awsSecretArn(scope: ArnScope, name: string, suffix: string): string {
  return `arn:aws:secretsmanager:${scope.region}:${scope.accountId}:secret:${name}-${suffix}`;
}

/** Where references resolve: Alibaba's region and account, and the regions AWS ARNs may name (the Alibaba region always counts). */
export interface SecretScope extends ArnScope {
  awsRegions?: ReadonlySet<string>;
}

/** A secret a reference may mean: a name, and the ARN suffix the secret must have when the reference carried one. */
export interface SecretCandidate {
  name: string;
  suffix?: string;
}

/**
 * What a secret reference names: the candidates, in the order they are tried. No candidate: the
 * reference is well-formed but names a secret of another region or account (not found here).
 */
export interface SecretReference {
  text: string;
  candidates: readonly SecretCandidate[];
}

const ACS_FORM = 'An ARN of a secret has the form acs:kms:<region>:<account>:secret/<name>.';
const AWS_FORM = 'An ARN of a secret has the form arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters> (the suffix may be left out).';

/**
 * Reads a reference to a secret in any of its four forms: a name, the acs ARN, the full AWS ARN
 * (`…:secret:<name>-<suffix>`), or a partial AWS ARN (`…:secret:<name>`). A full and a partial AWS
 * ARN look alike when the name ends in `-` and six letters or digits: both readings are candidates,
 * the full one first (it must match the secret's own suffix). Throws {@link InvalidParameterError}
 * for a malformed reference.
 */
export function parseSecretReference(text: string, scope: SecretScope, parameter = 'SecretName'): SecretReference {
  if (text.startsWith('acs:')) {
    const parts = text.split(':');
    if (parts.length !== 5 || parts[1] !== 'kms' || !parts[2] || !parts[3] || !parts[4]!.startsWith('secret/')) {
      throw new InvalidParameterError(parameter, ACS_FORM);
    }
    const name = parts[4]!.slice('secret/'.length);
    assertSecretName(name, parameter);
    const here = parts[2] === scope.region && parts[3] === scope.accountId;
    return { text, candidates: here ? [{ name }] : [] };
  }
  if (text.startsWith('arn:')) {
    const parts = text.split(':');
    if (parts.length !== 7 || !parts[1] || parts[2] !== 'secretsmanager' || !parts[3] || !parts[4] || parts[5] !== 'secret' || !parts[6]) {
      throw new InvalidParameterError(parameter, AWS_FORM);
    }
    const rest = parts[6]!;
    const here = parts[4] === scope.accountId && (parts[3] === scope.region || (scope.awsRegions?.has(parts[3]!) ?? false));
    const candidates: SecretCandidate[] = [];
    const dash = rest.length - ARN_SUFFIX_LENGTH - 1;
    if (dash > 0 && rest[dash] === '-' && isArnSuffix(rest.slice(dash + 1)) && isSecretName(rest.slice(0, dash))) {
      candidates.push({ name: rest.slice(0, dash), suffix: rest.slice(dash + 1) });
    }
    if (isSecretName(rest)) candidates.push({ name: rest });
    if (candidates.length === 0) throw new InvalidParameterError(parameter, AWS_FORM);
    return { text, candidates: here ? candidates : [] };
  }
  assertSecretName(text, parameter);
  return { text, candidates: [{ name: text }] };
}

/** A scope no reference names: reading a reference with it only checks its form. */
const NO_SCOPE: SecretScope = { region: '', accountId: '' };

/** Throws {@link InvalidParameterError} on `parameter` unless `text` is a secret reference in one of its four forms. */
export function assertSecretReference(text: string, parameter: string): void {
  parseSecretReference(text, NO_SCOPE, parameter);
}

/**
 * The secret the first fitting candidate of `reference` names, by `lookup` (a name → that secret,
 * or undefined when there is none), or undefined. A candidate with a suffix fits only the secret
 * with that ARN suffix.
 */
export async function resolveSecretReference<T extends { suffix: string }>(
  reference: SecretReference,
  lookup: (name: string) => Promise<T | undefined>,
): Promise<T | undefined> {
  for (const candidate of reference.candidates) {
    const secret = await lookup(candidate.name);
    if (secret !== undefined && (candidate.suffix === undefined || candidate.suffix === secret.suffix)) return secret;
  }
  return undefined;
}
