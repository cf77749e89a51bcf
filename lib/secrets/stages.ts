import { SecretLimitExceededError, SecretStageRuleError, SecretVersionNotFoundError } from '../errors.js';

/*
 * Version stages: ONE set of labels with two spellings. Stored in Alibaba's spelling
 * (`ACSCurrent`, `ACSPrevious`, `ACSPending`); AWS's (`AWSCURRENT`, `AWSPREVIOUS`, `AWSPENDING`)
 * means the same label in a request and is how the AWS protocol shows it; custom labels verbatim.
 *
 * The rules (AWS's, which Alibaba's documentation is compatible with): a label is on at most one
 * version; moving Current drags Previous to the version Current left; Current and Previous only
 * move, never go; a version without labels is deprecated. Pure functions over a secret's
 * `versionId → labels` map, in version creation order; each returns a new map or throws.
 */

export const CURRENT = 'ACSCurrent';
export const PREVIOUS = 'ACSPrevious';
export const PENDING = 'ACSPending';

const AWS_OF: ReadonlyMap<string, string> = new Map([
  [CURRENT, 'AWSCURRENT'],
  [PREVIOUS, 'AWSPREVIOUS'],
  [PENDING, 'AWSPENDING'],
]);
const STORED_OF: ReadonlyMap<string, string> = new Map([...AWS_OF].map(([stored, aws]) => [aws, stored]));

/** AWS's limit: labels on one version. */
export const MAX_LABELS_PER_VERSION = 20;
/** Alibaba's limit: distinct stages on one Generic secret. */
export const MAX_LABELS_PER_SECRET_ALIBABA = 8;
/** Unlabelled (deprecated) versions kept; the oldest beyond are dropped. Labelled versions are never dropped. */
export const MAX_DEPRECATED_VERSIONS = 100;

/** A label in either spelling, as stored. */
export function storedStage(label: string): string {
  return STORED_OF.get(label) ?? label;
}

/** A stored label as a protocol spells it. */
export function spelledStage(label: string, protocol: 'alibaba' | 'aws'): string {
  return protocol === 'aws' ? (AWS_OF.get(label) ?? label) : label;
}

/** `versionId → labels` (stored spelling), in version creation order. */
export type StageMap = ReadonlyMap<string, readonly string[]>;

/** The limits a protocol enforces on a change (each protocol its own; none when absent). */
export interface StageLimits {
  labelsPerVersion?: number;
  labelsPerSecret?: number;
}

/** The version that carries `label` (either spelling), or undefined. */
export function versionWithStage(map: StageMap, label: string): string | undefined {
  const stored = storedStage(label);
  for (const [versionId, labels] of map) if (labels.includes(stored)) return versionId;
  return undefined;
}

/** Distinct labels on the secret's versions (Alibaba's per-secret count). */
export function labelCount(map: StageMap): number {
  return new Set([...map.values()].flat()).size;
}

/** Whether a version is deprecated: it has no label. */
export function isDeprecated(map: StageMap, versionId: string): boolean {
  return (map.get(versionId)?.length ?? 0) === 0;
}

function without(map: StageMap, label: string): Map<string, string[]> {
  return new Map([...map].map(([versionId, labels]) => [versionId, labels.filter((l) => l !== label)]));
}

function attach(map: Map<string, string[]>, versionId: string, label: string): void {
  const labels = map.get(versionId)!;
  if (!labels.includes(label)) labels.push(label);
}

/** Moves `label` to `versionId`, and Previous after Current to where Current was (when it moved). */
function moveLabel(map: Map<string, string[]>, versionId: string, label: string): Map<string, string[]> {
  const holder = versionWithStage(map, label);
  let next = without(map, label);
  if (label === CURRENT && holder !== undefined && holder !== versionId) {
    next = without(next, PREVIOUS);
    attach(next, holder, PREVIOUS);
  }
  attach(next, versionId, label);
  return next;
}

function checkLimits(secret: string, map: StageMap, limits: StageLimits | undefined): void {
  if (limits?.labelsPerVersion !== undefined) {
    for (const [versionId, labels] of map) {
      if (labels.length > limits.labelsPerVersion) {
        throw new SecretLimitExceededError(secret, `a version has at most ${limits.labelsPerVersion} stages ("${versionId}" would have ${labels.length}).`);
      }
    }
  }
  if (limits?.labelsPerSecret !== undefined && labelCount(map) > limits.labelsPerSecret) {
    throw new SecretLimitExceededError(secret, `a secret has at most ${limits.labelsPerSecret} stages.`);
  }
}

/**
 * A new version. Without `stages`: Current moves to it, Previous to the version Current left.
 * With `stages` (either spelling): those labels move to it, and if Current is among them Previous
 * follows as above. The first version always gets Current. Throws when `versionId` is there already
 * (the caller handles repeats), or past `limits`.
 */
export function withNewVersion(secret: string, map: StageMap, versionId: string, stages?: readonly string[], limits?: StageLimits): Map<string, string[]> {
  if (map.has(versionId)) throw new Error(`version "${versionId}" exists already`);
  const wanted = stages === undefined ? [CURRENT] : [...new Set(stages.map(storedStage))];
  if (map.size === 0 && !wanted.includes(CURRENT)) wanted.unshift(CURRENT);
  let next = new Map([...map].map(([id, labels]) => [id, [...labels]]));
  next.set(versionId, []);
  // Current first, so that a Previous the caller names wins over the one Current drags along.
  for (const label of [...wanted.filter((l) => l === CURRENT), ...wanted.filter((l) => l !== CURRENT)]) next = moveLabel(next, versionId, label);
  checkLimits(secret, next, limits);
  return next;
}

/** UpdateSecretVersionStage's input: at least one of the two versions. */
export interface StageMove {
  stage: string;
  moveToVersion?: string;
  removeFromVersion?: string;
}

/**
 * UpdateSecretVersionStage: add (`moveToVersion` alone), remove (`removeFromVersion` alone) or
 * move (both). Current and Previous only move (a remove is refused); moving Current drags Previous.
 * When the label is on another version than `moveToVersion`, `removeFromVersion` must name that
 * version (AWS's rule), and a `removeFromVersion` must carry the label. Either version must exist.
 */
export function withStageMove(secret: string, map: StageMap, move: StageMove, limits?: StageLimits): Map<string, string[]> {
  const label = storedStage(move.stage);
  const { moveToVersion: to, removeFromVersion: from } = move;
  if (to === undefined && from === undefined) throw new SecretStageRuleError(secret, 'name the version to move the stage to, or to remove it from.');
  for (const versionId of [to, from]) if (versionId !== undefined && !map.has(versionId)) throw new SecretVersionNotFoundError(secret, { versionId });
  const holder = versionWithStage(map, label);
  if (from !== undefined && holder !== from) throw new SecretStageRuleError(secret, `the stage "${move.stage}" is not on the version "${from}".`);
  if (to === undefined) {
    if (label === CURRENT || label === PREVIOUS)
      throw new SecretStageRuleError(secret, `the stage "${move.stage}" only moves: name the version to move it to.`);
    return without(map, label);
  }
  if (holder !== undefined && holder !== to && from !== holder) {
    throw new SecretStageRuleError(secret, `the stage "${move.stage}" is on the version "${holder}": name it as the version to remove the stage from.`);
  }
  const next = moveLabel(new Map([...map].map(([id, labels]) => [id, [...labels]])), to, label);
  checkLimits(secret, next, limits);
  return next;
}

/**
 * The versions to drop so that at most `keep` deprecated versions remain: the oldest unlabelled
 * ones beyond that, in creation order. A labelled version is never dropped.
 */
export function versionsToPrune(map: StageMap, keep = MAX_DEPRECATED_VERSIONS): string[] {
  const deprecated = [...map].filter(([, labels]) => labels.length === 0).map(([versionId]) => versionId);
  return deprecated.slice(0, Math.max(0, deprecated.length - keep));
}
