import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { addSeconds, DEFAULT_ROTATION_SECONDS, parseRotationInterval } from '../lib/keyring/rotation.js';
import { defineAction } from '../lib/action.js';
import { notPendingDeletion } from '../lib/operations/key-state.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { UnsupportedKeySpecError, UnsupportedOriginError } from '../lib/errors.js';
import { specOf } from '../lib/crypto/key-spec.js';
import { booleanParameter, keyIdParameter } from '../lib/protocol/alibaba/schema.js';
import { integer, keyId } from '../lib/protocol/aws/fields.js';

type UpdateRotationPolicyInput = {
  KeyId: string;
  EnableAutomaticRotation: boolean;
  /** The interval asked for, in seconds; none: the key's own (or 365 days). */
  seconds?: number | undefined;
};

const DAY_SECONDS = 86_400;

/**
 * UpdateRotationPolicy: turns automatic rotation on or off. Enabling without an interval keeps the
 * key's interval, or 365 days. The next rotation is due one interval after the last (or after
 * creation); the scheduled rotation catches up at once on a key that is already due. It also
 * serves AWS's EnableKeyRotation (whose period is 365 days unless given, whatever the key had) and
 * DisableKeyRotation.
 */
export const action = defineAction({
  name: 'UpdateRotationPolicy',
  group: 'write',
  store: 'writes-state',
  alibaba: {
    params: z.pipe(
      z.object({ KeyId: keyIdParameter, EnableAutomaticRotation: booleanParameter, RotationInterval: z.optional(z.string()) }),
      z.transform(
        (params): UpdateRotationPolicyInput => ({
          KeyId: params.KeyId,
          EnableAutomaticRotation: params.EnableAutomaticRotation,
          seconds: params.RotationInterval === undefined ? undefined : parseRotationInterval(params.RotationInterval),
        }),
      ),
    ),
  },
  aws: [
    {
      target: 'EnableKeyRotation',
      input: (body, scope): UpdateRotationPolicyInput => ({
        KeyId: keyId(body, scope),
        EnableAutomaticRotation: true,
        seconds: (integer(body, 'RotationPeriodInDays', 90, 730) ?? 365) * DAY_SECONDS,
      }),
      output: () => ({}),
    },
    {
      target: 'DisableKeyRotation',
      input: (body, scope): UpdateRotationPolicyInput => ({ KeyId: keyId(body, scope), EnableAutomaticRotation: false }),
      output: () => ({}),
    },
  ],
  async resolve(input, context) {
    const key = notPendingDeletion(await resolveAuthorizedKey(input.KeyId, context));
    // Imported material is never rotated here; turning rotation off is harmless and allowed.
    if (key.external && input.EnableAutomaticRotation) throw new UnsupportedOriginError(key.keyId, 'EXTERNAL');
    // Neither Alibaba nor AWS rotates asymmetric or HMAC keys automatically.
    const spec = specOf(key);
    if (spec.kind !== 'symmetric' && input.EnableAutomaticRotation) {
      throw new UnsupportedKeySpecError('EnableAutomaticRotation', `A ${spec.spec} key cannot rotate automatically; make a new version with CreateKeyVersion.`);
    }
    return key;
  },
  async execute(input, key, context) {
    await context.service.keyring.updateKey(key.keyId, (record) => {
      const rotationInterval = input.seconds ?? record.rotationInterval ?? DEFAULT_ROTATION_SECONDS;
      if (!input.EnableAutomaticRotation) {
        const { nextRotationDate: _next, ...rest } = record;
        return { ...rest, automaticRotation: 'Disabled', rotationInterval };
      }
      const from = record.lastRotationDate ?? record.creationDate;
      return { ...record, automaticRotation: 'Enabled', rotationInterval, nextRotationDate: addSeconds(from, rotationInterval) };
    });
    return {};
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
