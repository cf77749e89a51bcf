import { AWS_REGION, DATA_DIR, ROOT_KEY_FILE, ROOT_KEY_SOURCE } from '../keystore/config.js';
import { BACKENDS, KEY_STORE } from './backends.js';
import { CLIENT_VARIABLES } from './client.js';
import { GATEWAY_VARIABLES } from './gateway.js';
import {
  ACCESS_LOG,
  ACCOUNT_ID,
  AUDIT_LOG,
  AWS_REGIONS,
  CACHE_TTL_MS,
  LOG_LEVEL,
  NONCE_STORE,
  NONCE_TABLE,
  FUNCTION_NAME_PREFIX,
  PLATFORM_VARIABLES,
  RATE_LIMITS,
  REGION,
  SINGLE_INSTANCE,
} from './service.js';
import type { Variable } from './variable.js';

/** A group of variables as the configuration table shows them. */
export interface ConfigurationSection {
  title: string;
  intro: string;
  variables: readonly Variable<unknown>[];
}

/**
 * Every variable the service, the gateway, the functions and the `kms` command read, each declared
 * once beside its owner: the one schema of the configuration, from which docs/configuration.md is
 * written (test/unit/configuration.test.ts checks that it is current, and that no `KMS_*` name in
 * the code is missing here).
 */
export const CONFIGURATION: readonly ConfigurationSection[] = [
  {
    title: 'The gateway',
    intro: 'The local gateway (`npm start`, `kms serve`).',
    variables: GATEWAY_VARIABLES,
  },
  {
    title: 'The service',
    intro: 'Every deployment: the gateway and the cloud functions.',
    variables: [REGION, ACCOUNT_ID, AWS_REGIONS, CACHE_TTL_MS, LOG_LEVEL, AUDIT_LOG, ACCESS_LOG, RATE_LIMITS, ...PLATFORM_VARIABLES, FUNCTION_NAME_PREFIX],
  },
  {
    title: 'State and keys at rest',
    intro: 'The key store (`KMS_KEY_STORE` picks a backend; each reads its own variables) and the replay store.',
    variables: [
      KEY_STORE,
      DATA_DIR,
      ROOT_KEY_FILE,
      ROOT_KEY_SOURCE,
      ...Object.values(BACKENDS).flatMap((backend) => backend.variables),
      AWS_REGION,
      NONCE_STORE,
      NONCE_TABLE,
      SINGLE_INSTANCE,
    ],
  },
  {
    title: 'The `kms` command and partition keys',
    intro:
      "The consumer side: the command's connection and output, and the partition-key provisioner (the function, and the `kms partitions` / `--partition` commands).",
    variables: CLIENT_VARIABLES,
  },
];

/** The configuration reference as Markdown: one table per section. */
export function configurationMarkdown(): string {
  const sections = CONFIGURATION.map(({ title, intro, variables }) =>
    [
      `## ${title}`,
      '',
      intro,
      '',
      '| variable | default | meaning |',
      '| --- | --- | --- |',
      ...variables.map((v) => `| \`${v.name}\` | ${cell(v.shownDefault)} | ${cell(v.doc)} |`),
    ].join('\n'),
  );
  return [
    '# Configuration',
    '',
    '<!-- Written from lib/config/catalogue.ts by `npx vitest run test/unit/configuration.test.ts -u`; edit the declarations, not this file. -->',
    '',
    'Every setting is an environment variable. The service and the gateway read and check theirs at start: a value that cannot be used stops the start with a message naming the variable, and an empty value counts as unset.',
    '',
    sections.join('\n\n'),
    '',
  ].join('\n');
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}
