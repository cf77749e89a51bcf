import { z } from 'zod';

/**
 * An Alibaba RAM policy document, the subset a KMS access key needs:
 * `{"Version":"1","Statement":[{"Effect":"Allow"|"Deny","Action":…,"Resource":…}]}`.
 * `Action` and `Resource` are a string or a list; `*` and `?` are wildcards. A statement with a
 * `Condition` is refused rather than ignored: ignoring it would grant more than was written.
 */
const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const policyDocumentSchema = z
  .object({
    Version: z.literal('1'),
    Statement: z
      .array(
        z
          .object({
            Effect: z.enum(['Allow', 'Deny']),
            Action: stringOrList,
            Resource: stringOrList,
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export type PolicyDocument = z.infer<typeof policyDocumentSchema>;

/** A policy compiled once into matchers; evaluation allocates nothing per request. */
export interface CompiledPolicy {
  isAllowed(action: string, resource: string): boolean;
}

interface CompiledStatement {
  allow: boolean;
  actions: RegExp[];
  resources: RegExp[];
}

/** `*` matches any run of characters, `?` exactly one; everything else is literal. */
function wildcardPattern(pattern: string, caseInsensitive: boolean): RegExp {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, caseInsensitive ? 'is' : 's');
}

const list = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

/**
 * Compiles a validated document. Evaluation: an explicit Deny that matches wins; otherwise a
 * matching Allow allows; otherwise deny. Actions (`kms:Decrypt`) match case-insensitively, as in
 * RAM; resources (ARNs) match exactly.
 */
export function compilePolicy(document: PolicyDocument): CompiledPolicy {
  const statements: CompiledStatement[] = document.Statement.map((s) => ({
    allow: s.Effect === 'Allow',
    actions: list(s.Action).map((a) => wildcardPattern(a, true)),
    resources: list(s.Resource).map((r) => wildcardPattern(r, false)),
  }));
  return {
    isAllowed(action, resource) {
      let allowed = false;
      for (const s of statements) {
        if (!s.actions.some((a) => a.test(action)) || !s.resources.some((r) => r.test(resource))) continue;
        if (!s.allow) return false;
        allowed = true;
      }
      return allowed;
    },
  };
}

/** The policy of the bootstrap admin key: every KMS action on every resource. */
export const ADMIN_POLICY: PolicyDocument = {
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: ['kms:*'], Resource: ['*'] }],
};
