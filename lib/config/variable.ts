import * as z from '../zod.js';

/** An environment variable that cannot be used as it is set; the message names it and says what it must be. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/** The environment as it is read (`process.env`, or a test's object). */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * One environment variable, declared once, beside the code that owns it: its name, its meaning and
 * its default as the configuration table (docs/configuration.md) shows them, and its schema — a zod
 * schema from its text to its value. An empty value counts as unset.
 */
export interface Variable<T> {
  readonly name: string;
  /** What it means (Markdown, one line), for the configuration table. */
  readonly doc: string;
  /** The default as the table shows it: the value, a phrase (`<KMS_DATA_DIR>/root.key`), or `—`. */
  readonly shownDefault: string;
  /** Text (undefined: unset or empty) → value; a failure's message says what the value must be. */
  readonly schema: z.ZodMiniType<T>;
  /** The value `env` sets; a {@link ConfigurationError} naming the variable when it is malformed. */
  read(env: Environment): T;
}

/** What every constructor takes: the meaning, and (when not the default's own text) how the default is shown. */
export interface VariableDoc {
  doc: string;
  shownDefault?: string;
}

/**
 * A variable read through `schema`. A failure's message is put after the name (`KMS_PORT must be
 * …`), unless it names the variable itself.
 */
export function variable<T>(name: string, schema: z.ZodMiniType<T>, meta: VariableDoc & { default?: unknown }): Variable<T> {
  return {
    name,
    doc: meta.doc,
    shownDefault: meta.shownDefault ?? (meta.default === undefined ? '—' : `\`${String(meta.default)}\``),
    schema,
    read(env) {
      const text = env[name];
      const result = schema.safeParse(text === '' ? undefined : text);
      if (result.success) return result.data;
      const message = result.error.issues[0]!.message;
      throw new ConfigurationError(message.startsWith(name) ? message : `${name} ${message}`);
    },
  };
}

/** Free text, with a default. */
export function text(name: string, meta: VariableDoc & { default: string }): Variable<string> {
  return variable(name, withDefault(z.string(), meta.default), meta);
}

/** Free text, or undefined when unset. */
export function optionalText(name: string, meta: VariableDoc): Variable<string | undefined> {
  return variable(name, z.optional(z.string()), meta);
}

/** One of `values` (the message lists them), or `default` when unset. */
export function oneOf<const V extends string>(name: string, values: readonly V[], meta: VariableDoc & { default: V }): Variable<V>;
export function oneOf<const V extends string>(name: string, values: readonly V[], meta: VariableDoc): Variable<V | undefined>;
export function oneOf<const V extends string>(name: string, values: readonly V[], meta: VariableDoc & { default?: V }): Variable<V | undefined> {
  const listed = `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
  const schema = z.pipe(
    z.optional(z.string()),
    z.transform((value, context) => {
      if (value === undefined) return meta.default;
      return (values as readonly string[]).includes(value) ? (value as V) : z.refuse(context, value, `must be ${listed}, not "${value.slice(0, 40)}"`);
    }),
  );
  return variable(name, schema, meta);
}

/**
 * A whole number in decimal digits, from `min` (default 0) up to `max`, or `default` when unset.
 * `what` names it in the message (`a whole number of milliseconds`, `a port number`).
 */
export function wholeNumber(name: string, meta: VariableDoc & { default: number; what: string; min?: number; max?: number }): Variable<number>;
export function wholeNumber(name: string, meta: VariableDoc & { what: string; min?: number; max?: number }): Variable<number | undefined>;
export function wholeNumber(name: string, meta: VariableDoc & { default?: number; what: string; min?: number; max?: number }): Variable<number | undefined> {
  const min = meta.min ?? 0;
  const range = `${min > 0 ? ` from ${min}` : ''}${meta.max === undefined ? '' : ` up to ${meta.max}`}`;
  const schema = z.pipe(
    z.optional(z.string()),
    z.transform((value, context) => {
      if (value === undefined) return meta.default;
      const number = Number(value);
      const valid = /^\d+$/.test(value) && Number.isSafeInteger(number) && number >= min && (meta.max === undefined || number <= meta.max);
      return valid ? number : z.refuse(context, value, `must be ${meta.what}${range}, not "${value.slice(0, 40)}"`);
    }),
  );
  return variable(name, schema, meta);
}

/** `true` or `false` (unset: false). */
export function flag(name: string, meta: VariableDoc): Variable<boolean> {
  const schema = z.pipe(
    z.optional(z.string()),
    z.transform((value, context) => {
      if (value === undefined || value === 'false') return false;
      return value === 'true' ? true : z.refuse(context, value, `must be true or false, not "${value.slice(0, 40)}"`);
    }),
  );
  return variable(name, schema, { shownDefault: '`false`', ...meta });
}

function withDefault(schema: z.ZodMiniString, fallback: string): z.ZodMiniType<string> {
  return z.pipe(
    z.optional(schema),
    z.transform((value) => value ?? fallback),
  );
}

/** The value a variable takes when it is not set. */
export function defaultOf<T>(v: Variable<T>): T {
  return v.read({});
}
