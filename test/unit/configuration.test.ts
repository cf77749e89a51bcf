import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../../lib/config/backends.js';
import { CONFIGURATION, configurationMarkdown } from '../../lib/config/catalogue.js';
import { ConfigurationError, defaultOf, flag, oneOf, optionalText, text, wholeNumber } from '../../lib/config/variable.js';
import { literalTextsOf, sourceFiles } from '../helpers/source-files.js';

/** `KMS_*` texts in the code that are not variables. */
const NOT_VARIABLES: Record<string, string> = {
  KMS_PENDING: 'a Secrets Manager version stage (lib/keystore/secrets-manager/)',
  KMS_NAME: 'the placeholder of `kms-fc deploy --env KMS_NAME=value` in its help',
  KMS_ACTIONS: 'the generated list of RAM action names (lib/policy/kms-actions.ts), written by infra/generated-files.ts',
};

describe('Module: config/variable', () => {
  describe('function oneOf', () => {
    const choice = oneOf('KMS_T', ['a', 'b', 'c'], { default: 'b', doc: '' });

    it('when it is unset or empty, it is the default; when it is one of the values, that one', () => {
      expect([choice.read({}), choice.read({ KMS_T: '' }), choice.read({ KMS_T: 'c' })]).toEqual(['b', 'b', 'c']);
      expect(oneOf('KMS_T', ['a', 'b'], { doc: '' }).read({})).toBeUndefined();
    });

    it.each(['d', 'A', ' a', 'a,b'])('when it is %j, it is a ConfigurationError that names the variable and lists the values', (value) => {
      expect(() => choice.read({ KMS_T: value })).toThrow(new ConfigurationError(`KMS_T must be a, b or c, not "${value}"`));
    });
  });

  describe('function wholeNumber', () => {
    const ms = wholeNumber('KMS_T_MS', { default: 5_000, what: 'a whole number of milliseconds', min: 100, max: 600_000, doc: '' });

    it('when it is decimal digits within the range, it is that number; unset or empty, the default', () => {
      expect([ms.read({ KMS_T_MS: '100' }), ms.read({ KMS_T_MS: '600000' }), ms.read({ KMS_T_MS: '0250' }), ms.read({}), ms.read({ KMS_T_MS: '' })]).toEqual([
        100, 600_000, 250, 5_000, 5_000,
      ]);
    });

    it.each(['99', '600001', '-1', '1e3', '0x10', ' 5', '5s', '2.5', '99999999999999999999'])('when it is %j, it is refused with the range', (value) => {
      expect(() => ms.read({ KMS_T_MS: value })).toThrow(`KMS_T_MS must be a whole number of milliseconds from 100 up to 600000, not "${value}"`);
    });

    it('when the text is long, the message quotes only its start (a variable may hold something secret-looking)', () => {
      expect(() => ms.read({ KMS_T_MS: 'x'.repeat(500) })).toThrow(`not "${'x'.repeat(40)}"`);
    });
  });

  describe('function flag', () => {
    const on = flag('KMS_T_ON', { doc: '' });
    it.each([
      [undefined, false],
      ['', false],
      ['false', false],
      ['true', true],
    ])('when it is %j, it is %j', (value, expected) => {
      expect(on.read({ KMS_T_ON: value })).toBe(expected);
    });
    it.each(['yes', '1', 'TRUE'])('when it is %j, it is refused', (value) => {
      expect(() => on.read({ KMS_T_ON: value })).toThrow(`KMS_T_ON must be true or false, not "${value}"`);
    });
  });

  it('text and optionalText: an empty value counts as unset; the default is what an empty environment reads', () => {
    const dir = text('KMS_T_DIR', { default: './x', doc: '' });
    expect([dir.read({ KMS_T_DIR: '' }), dir.read({ KMS_T_DIR: '/y' }), defaultOf(dir)]).toEqual(['./x', '/y', './x']);
    expect(optionalText('KMS_T_URL', { doc: '' }).read({ KMS_T_URL: '' })).toBeUndefined();
    expect([dir.shownDefault, optionalText('KMS_T_URL', { doc: '' }).shownDefault]).toEqual(['`./x`', '—']);
  });
});

describe('Module: config/catalogue', () => {
  const declared = CONFIGURATION.flatMap((section) => section.variables.map((v) => v.name));

  it('declares each variable once', () => {
    expect(declared.filter((name, i) => declared.indexOf(name) !== i)).toEqual([]);
  });

  it('declares every KMS_* variable the code reads (a new one without a declaration fails here)', () => {
    const named = new Map<string, string>();
    for (const file of sourceFiles()) {
      for (const text of literalTextsOf(file)) {
        for (const [name] of text.matchAll(/\bKMS_[A-Z0-9_]*[A-Z0-9]\b/g)) if (!named.has(name)) named.set(name, file);
      }
    }
    const missing = [...named].filter(([name]) => !declared.includes(name) && !(name in NOT_VARIABLES)).map(([name, file]) => `${name} (${file})`);
    expect(missing).toEqual([]);
    // The scan sees what it must: names read as properties, in messages, and in option declarations.
    expect([...named.keys()]).toEqual(
      expect.arrayContaining(['KMS_PORT', 'KMS_POSTGRES_URL', 'KMS_SECRETS_ROLE_PATTERN', 'KMS_PARTITION_REGISTRY', 'KMS_OUTPUT']),
    );
    // An exception the code no longer names is taken off the list.
    expect(Object.keys(NOT_VARIABLES).filter((name) => !named.has(name))).toEqual([]);
  });

  it('lists every backend of the table, each under its KMS_KEY_STORE value', () => {
    for (const [kind, backend] of Object.entries(BACKENDS)) {
      expect(backend.kind).toBe(kind);
      for (const v of backend.variables) expect(declared).toContain(v.name);
    }
  });

  it('docs/configuration.md is the table the declarations write (run with -u to rewrite it)', async () => {
    await expect(configurationMarkdown()).toMatchFileSnapshot('../../docs/configuration.md');
  });
});
