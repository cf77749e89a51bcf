'use strict';

/**
 * A local Serverless Framework plugin. For every Lambda behind the load balancer the framework
 * writes a permission that lets `elasticloadbalancing.amazonaws.com` invoke the function while the
 * target group registers it (`<Function>LambdaPermissionRegisterTarget`), with no SourceArn: any
 * target group in any account could then invoke the function. The target group cannot be
 * referenced there (it depends on that permission), but its name is known: this scopes each
 * permission to its own target group's ARN in this account and region, and to this account.
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
      const name = groups[0][1].Properties.Name;
      resource.Properties.SourceArn = { 'Fn::Sub': `arn:\${AWS::Partition}:elasticloadbalancing:\${AWS::Region}:\${AWS::AccountId}:targetgroup/${name}/*` };
      resource.Properties.SourceAccount = { Ref: 'AWS::AccountId' };
    }
  }
}

module.exports = ScopedTargetGroupPermissions;
