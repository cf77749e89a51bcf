'use strict';

/**
 * A local Serverless Framework plugin. For every Lambda behind the load balancer the framework
 * writes two permissions that let `elasticloadbalancing.amazonaws.com` invoke the function: one
 * for the target group to register it (`<Function>LambdaPermissionRegisterTarget`), with no
 * SourceArn — any target group in any account could then invoke the function — and one for the
 * target group once it exists (`<Function>LambdaPermissionAlb`, SourceArn: the group).
 *
 * The target group cannot be referenced in the first (it depends on that permission), but its
 * name is known: this scopes the first to its own target group's ARN in this account and region
 * (`targetgroup/<name>/*`), and to this account. Scoped so, it allows exactly what the second
 * allows (a target group's name is unique in its account and region), so the second is left
 * out: one permission per function instead of two, of CloudFormation's 500 resources a stack holds
 * (test/e2e/serverless.test.ts).
 */
class ScopedTargetGroupPermissions {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.scope() };
  }

  scope() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::Lambda::Permission' || !id.endsWith('LambdaPermissionRegisterTarget')) continue;
      if (resource.Properties.Principal !== 'elasticloadbalancing.amazonaws.com' || resource.Properties.SourceArn) continue;
      const prefix = id.slice(0, -'LambdaPermissionRegisterTarget'.length);
      const groups = Object.entries(resources).filter(
        ([groupId, group]) =>
          group.Type === 'AWS::ElasticLoadBalancingV2::TargetGroup' && groupId.startsWith(`${prefix}AlbTargetGroup`) && (group.DependsOn || []).includes(id),
      );
      if (groups.length !== 1) throw new Error(`${id}: expected one target group registering it, found ${groups.length}`);
      const [groupId, group] = groups[0];
      resource.Properties.SourceArn = {
        'Fn::Sub': `arn:\${AWS::Partition}:elasticloadbalancing:\${AWS::Region}:\${AWS::AccountId}:targetgroup/${group.Properties.Name}/*`,
      };
      resource.Properties.SourceAccount = { Ref: 'AWS::AccountId' };
      // The same grant, for the same target group: redundant once the first is scoped.
      const redundantId = `${prefix}LambdaPermissionAlb`;
      const redundant = resources[redundantId];
      if (redundant === undefined) continue;
      const same =
        redundant.Type === 'AWS::Lambda::Permission' &&
        redundant.Properties.Principal === 'elasticloadbalancing.amazonaws.com' &&
        redundant.Properties.Action === resource.Properties.Action &&
        JSON.stringify(redundant.Properties.FunctionName) === JSON.stringify(resource.Properties.FunctionName) &&
        redundant.Properties.SourceArn?.Ref === groupId &&
        redundant.DependsOn === undefined;
      if (!same) throw new Error(`${redundantId}: not the target group's invoke permission this plugin replaces`);
      const referenced = Object.entries(resources).some(([other, r]) => other !== redundantId && JSON.stringify(r).includes(`"${redundantId}"`));
      if (referenced) throw new Error(`${redundantId}: referenced by another resource, cannot be left out`);
      delete resources[redundantId];
    }
  }
}

module.exports = ScopedTargetGroupPermissions;
