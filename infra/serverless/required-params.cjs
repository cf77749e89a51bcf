'use strict';

/**
 * A local Serverless Framework plugin. The site-specific values of a stage (its load balancer's
 * listener, bucket name, account, alarm e-mail, …) have no default: `custom.requiredParams` in
 * serverless.yml declares each with its meaning, an example and a pattern; `custom.paramFormats`
 * gives the pattern of optional ones. Without this plugin a missing one surfaces as dozens of
 * "Value not found at "param" source" lines that name the places it is used, never the
 * parameter; with it, `serverless package`, `deploy`, `info`, `remove` and `offline` stop before
 * anything is resolved or built, naming every missing or malformed parameter and how to pass it.
 * It checks in the constructor because the framework resolves variables (and fails on the
 * missing ones) after constructing the plugins and before any lifecycle hook; once the region is
 * resolved, a hook checks that the listener is in the region the stack deploys to.
 */
class RequiredParams {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options || {};
    this.hooks = {
      'before:package:initialize': () => {
        this.checkRegion();
        this.checkRoleNames();
      },
    };
    const input = serverless.configurationInput || {};
    const declared = input.custom?.requiredParams || {};
    const formats = input.custom?.paramFormats || {};
    if (this.options.help) return;
    const stage = this.options.stage || 'dev';
    const given = { ...(input.params?.default || {}), ...(input.params?.[stage] || {}), ...cliParams(this.options.param) };
    this.given = given;
    const problems = [];
    for (const [name, declaration] of Object.entries(declared)) {
      const { example, pattern } = declaration;
      const meaning = String(declaration.meaning).replace(/\.$/, '');
      const value = given[name];
      if (value === undefined || value === null || value === '') problems.push(`  --param ${name}=…  is missing: ${meaning} (for example ${example})`);
      else if (!matches(value, pattern)) problems.push(`  --param ${name}=${value}  is malformed: ${meaning} (for example ${example})`);
    }
    for (const [name, pattern] of Object.entries(formats))
      if (given[name] !== undefined && given[name] !== null && !matches(given[name], pattern))
        problems.push(`  --param ${name}=${given[name]}  is malformed: it must match ${pattern}`);
    if (problems.length > 0) {
      const ServerlessError = serverless.classes.Error;
      throw new ServerlessError(`Stage "${stage}" needs these parameters (docs/deploy-aws.md#parameters):\n${problems.join('\n')}`, 'KMS_REQUIRED_PARAMS');
    }
  }

  /** The listener rules and alarms of the stack name the listener: it must be in the stack's region. */
  checkRegion() {
    const listenerArn = this.given?.listenerArn;
    const region = this.serverless.service.provider.region;
    const listenerRegion = typeof listenerArn === 'string' ? listenerArn.split(':')[3] : undefined;
    if (listenerRegion && !listenerArn.includes('${') && region && listenerRegion !== region) {
      const ServerlessError = this.serverless.classes.Error;
      throw new ServerlessError(
        `--param listenerArn names a listener in ${listenerRegion}, but the stack deploys to ${region}: pass --region ${listenerRegion}, or a listener in ${region}`,
        'KMS_REQUIRED_PARAMS',
      );
    }
  }

  /**
   * A function with a role of its own (`iamRoleStatements`) has it named
   * `<service>-<stage>-<function>-<region>-lambdaRole` by serverless-iam-roles-per-function; IAM
   * allows 64 characters. Over 64 the plugin drops the `lambdaRole` suffix, and over 64 even then
   * it refuses to package. A policy of the stack that names a role (the stage key's policy names
   * the provisioner's: a reference would make a cycle) names it with the suffix, so it would
   * silently miss a shortened role. Both are refused here, from the stack's real function names,
   * naming the longest stage the region allows; so is a role of the stack's resources (those the
   * Actions share, `role:`) whose name, `Fn::Join` of its parts, would be longer than 64.
   */
  checkRoleNames() {
    const service = this.serverless.service;
    const region = service.provider.region;
    const stage = this.options.stage || service.provider.stage || 'dev';
    if (!region || typeof service.getAllFunctions !== 'function') return;
    const resources = JSON.stringify(service.resources || {});
    const named = (fn) => resources.includes(`:role/${service.service}-${stage}-${fn}-\${AWS::Region}-${ROLE_SUFFIX}`);
    const problems = [];
    for (const fn of service.getAllFunctions()) {
      if (typeof service.getFunction === 'function' && service.getFunction(fn).role) continue;
      const full = roleName(service.service, stage, fn, region, true);
      const limit = named(fn) ? full : roleName(service.service, stage, fn, region, false);
      if (limit.length <= MAX_ROLE_NAME) continue;
      const longest = stage.length - (limit.length - MAX_ROLE_NAME);
      const why = named(fn) ? 'a policy of the stack names it so' : 'the role could not be named';
      problems.push(
        `  function ${fn}: its role ${full} has ${full.length} characters, ${why}; IAM allows ${MAX_ROLE_NAME}: in ${region}, a stage of at most ${longest} characters`,
      );
    }
    for (const [id, resource] of Object.entries(service.resources?.Resources || {})) {
      const join = resource?.Type === 'AWS::IAM::Role' ? resource.Properties?.RoleName?.['Fn::Join'] : undefined;
      if (!Array.isArray(join)) continue;
      const name = join[1].map((part) => (part?.Ref === 'AWS::Region' ? region : String(part))).join(join[0]);
      if (name.length <= MAX_ROLE_NAME) continue;
      problems.push(
        `  role ${id}: its name ${name} has ${name.length} characters; IAM allows ${MAX_ROLE_NAME}: in ${region}, a stage of at most ${stage.length - (name.length - MAX_ROLE_NAME)} characters`,
      );
    }
    if (problems.length > 0) {
      const ServerlessError = this.serverless.classes.Error;
      throw new ServerlessError(`Stage "${stage}" is too long for its functions' role names:\n${problems.join('\n')}`, 'KMS_STAGE_NAME_TOO_LONG');
    }
  }
}

const MAX_ROLE_NAME = 64;
const ROLE_SUFFIX = 'lambdaRole';

/** The role name serverless-iam-roles-per-function gives a function, with or without its suffix. */
const roleName = (service, stage, fn, region, suffixed) => [service, stage, fn, region, ...(suffixed ? [ROLE_SUFFIX] : [])].join('-');

/** A value still holding a variable (`${…}`) is left to the framework and CloudFormation. */
const matches = (value, pattern) => !pattern || String(value).includes('${') || new RegExp(pattern).test(String(value));

/** `--param name=value` options, as the framework parses them (the value after the first `=`). */
function cliParams(param) {
  const list = param === undefined ? [] : Array.isArray(param) ? param : [param];
  const params = {};
  for (const item of list) {
    const at = String(item).indexOf('=');
    if (at > 0)
      params[String(item).slice(0, at)] = String(item)
        .slice(at + 1)
        .trimEnd();
  }
  return params;
}

module.exports = RequiredParams;
