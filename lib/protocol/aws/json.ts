import { InvalidParameterError, MissingParameterError } from '../../errors.js';
import type { AwsBody } from './binding.js';

/* Reading one field of AWS JSON as AWS types it (a string, a number, a boolean), naming it in its 400. */

/** A field the body itself holds (never one of Object.prototype's). */
export function field(body: AwsBody, name: string): unknown {
  return Object.hasOwn(body, name) ? body[name] : undefined;
}

export const absent = (value: unknown) => value === undefined || value === null;

export function text(body: AwsBody, name: string, options: { required?: boolean; max?: number } = {}): string | undefined {
  const value = field(body, name);
  if (absent(value)) {
    if (options.required) throw new MissingParameterError(name);
    return undefined;
  }
  if (typeof value !== 'string') throw new InvalidParameterError(name, 'It must be a string.');
  if (options.max !== undefined && value.length > options.max) throw new InvalidParameterError(name, `It must be at most ${options.max} characters.`);
  return value;
}

export function integer(body: AwsBody, name: string, min: number, max: number): number | undefined {
  const value = field(body, name);
  if (absent(value)) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new InvalidParameterError(name, `It must be an integer from ${min} to ${max}.`);
  return value;
}

export function bool(body: AwsBody, name: string): boolean | undefined {
  const value = field(body, name);
  if (absent(value)) return undefined;
  if (typeof value !== 'boolean') throw new InvalidParameterError(name, 'It must be true or false.');
  return value;
}
