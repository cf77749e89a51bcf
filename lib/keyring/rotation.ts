import { isoSeconds } from '@alibaba-kms-compatible/client/internal/time';
import { InvalidParameterError } from '../errors.js';

/** Alibaba's bounds on RotationInterval: 7 to 730 days. */
export const MIN_ROTATION_SECONDS = 7 * 86_400;
export const MAX_ROTATION_SECONDS = 730 * 86_400;
/** Interval used when rotation is enabled without one (Alibaba's own default, 365 days). */
export const DEFAULT_ROTATION_SECONDS = 365 * 86_400;

/** `7d`–`730d`, or seconds `604800s`–`63072000s`. Throws InvalidParameterError naming RotationInterval. */
export function parseRotationInterval(value: string): number {
  const m = /^(\d{1,9})([ds])$/.exec(value);
  const seconds = m ? Number(m[1]) * (m[2] === 'd' ? 86_400 : 1) : Number.NaN;
  if (!(seconds >= MIN_ROTATION_SECONDS && seconds <= MAX_ROTATION_SECONDS)) {
    throw new InvalidParameterError('RotationInterval', 'It must be from 7d to 730d, in days ("30d") or seconds ("2592000s").');
  }
  return seconds;
}

export function formatRotationInterval(seconds: number): string {
  return `${seconds}s`;
}

export function addSeconds(iso: string, seconds: number): string {
  return isoSeconds(Date.parse(iso) + seconds * 1000);
}

/** Any new primary version counts as a rotation: the next automatic one is an interval later. */
export function rotatedAt<T extends { rotationInterval?: number; automaticRotation?: string }>(record: T, at: string): T {
  return {
    ...record,
    lastRotationDate: at,
    ...(record.automaticRotation === 'Enabled' && record.rotationInterval !== undefined ? { nextRotationDate: addSeconds(at, record.rotationInterval) } : {}),
  };
}
