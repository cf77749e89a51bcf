'use strict';

/**
 * A local Serverless Framework plugin for a stage upgraded from the layout that kept key material
 * in Secrets Manager, one secret per version (`<prefix>key-versions/<key>/<version>`). Such a stage
 * is deployed with `--param legacySecretsPrefix=<prefix>` (the old `KMS_SECRETS_PREFIX`, usually
 * `kms/<stage>/`) until `kms store migrate-material` has copied every version into the table
 * (docs/deploy-aws.md, "Migrating key material out of Secrets Manager"). Then, and only then:
 *
 * - every function that may read the root key (every one that reads the state) may also read
 *   those secrets (`secretsmanager:GetSecretValue`): a version not copied yet is read from its
 *   secret (lib/keystore/material-fallback-store.ts);
 * - every function that may delete key material may also delete those secrets
 *   (`secretsmanager:DeleteSecret`): destroying a version removes its secret too;
 * - the operator role may do both (the migration reads them; `--delete-secrets` deletes them).
 *
 * Only the material secrets (`<prefix>key-versions/*`), never the stage's root key or the
 * provisioner's secret. A stage deployed without the parameter (a new one, or one whose
 * material has moved) gets no statement at all. Which roles are which follows from their
 * statements (serverless.yml's custom.iam anchors, written from infra/serverless/iam.ts), so a
 * new Action is covered without anyone listing it here; a role the Actions of one store access
 * share (infra/serverless/roles.ts) gets them once, for all of its functions, which all have
 * the statement that earns them.
 */
const MATERIAL_ENTRIES = 'key-versions/';
const OPERATOR_ROLE = 'OperatorRole';

class LegacyMaterialAccess {
  constructor(serverless) {
    this.serverless = serverless;
    // After serverless-iam-roles-per-function (listed before this plugin) has written the roles.
    this.hooks = { 'before:package:finalize': () => this.grant() };
  }

  grant() {
    const service = this.serverless.service;
    const prefix = service.provider.environment?.KMS_SECRETS_PREFIX;
    if (!prefix) return;
    const secrets = {
      'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${prefix}${MATERIAL_ENTRIES}*`,
    };
    const read = { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: secrets };
    const remove = { Effect: 'Allow', Action: ['secretsmanager:DeleteSecret'], Resource: secrets };
    const { readRootKey, deleteMaterial } = service.custom?.iam || {};
    if (!readRootKey || !deleteMaterial)
      throw new this.serverless.classes.Error('custom.iam.readRootKey and custom.iam.deleteMaterial are needed to grant legacy material access');
    // A function's role: its own (serverless-iam-roles-per-function, in the compiled template by
    // now) or one it shares with the Actions of its store access (serverless.yml's resources,
    // merged later). Each role once, whatever number of functions use it.
    const compiled = service.provider.compiledCloudFormationTemplate.Resources;
    const declared = service.resources?.Resources || {};
    const granted = new Set();
    for (const name of service.getAllFunctions()) {
      const fn = compiled[this.serverless.providers.aws.naming.getLambdaLogicalId(name)];
      const roleId = fn.Properties.Role?.['Fn::GetAtt']?.[0];
      const role = compiled[roleId] || declared[roleId];
      if (!role) throw new this.serverless.classes.Error(`function ${name}: its role ${JSON.stringify(fn.Properties.Role)} is not in the stack`);
      if (granted.has(roleId)) continue;
      granted.add(roleId);
      const statements = role.Properties.Policies[0].PolicyDocument.Statement;
      const has = (wanted) => statements.some((s) => JSON.stringify(s) === JSON.stringify(wanted));
      const added = [...(has(readRootKey) ? [read] : []), ...(has(deleteMaterial) ? [remove] : [])];
      statements.push(...added);
    }
    const operator = service.resources?.Resources?.[OPERATOR_ROLE];
    if (operator) operator.Properties.Policies[0].PolicyDocument.Statement.push(read, remove);
  }
}

module.exports = LegacyMaterialAccess;
