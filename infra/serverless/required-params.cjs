'use strict';

/**
 * A local Serverless Framework plugin. The site-specific values of a stage (its load balancer's
 * listener, bucket name, account, alarm e-mail, …) have no default: `custom.requiredParams` in
 * serverless.yml declares each with its meaning, an example and a pattern. Without this plugin a
 * missing one surfaces as dozens of "Value not found at "param" source" lines that name the places
 * it is used, never the parameter; with it, `serverless package`, `deploy` and `offline` stop
 * before anything is resolved or built, naming every missing or malformed parameter and how to
 * pass it. It runs in the constructor because the framework resolves variables (and fails on
 * the missing ones) after constructing the plugins and before any lifecycle hook.
 */
class RequiredParams {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options || {};
    const input = serverless.configurationInput || {};
    const declared = input.custom?.requiredParams || {};
    if (this.options.help || Object.keys(declared).length === 0) return;
    const stage = this.options.stage || 'dev';
    const given = { ...(input.params?.default || {}), ...(input.params?.[stage] || {}), ...cliParams(this.options.param) };
    const problems = [];
    for (const [name, declaration] of Object.entries(declared)) {
      const { example, pattern } = declaration;
      const meaning = String(declaration.meaning).replace(/\.$/, '');
      const value = given[name];
      if (value === undefined || value === null || value === '') problems.push(`  --param ${name}=…  is missing: ${meaning} (for example ${example})`);
      // A value still holding a variable (`${…}`) is checked by CloudFormation, not here.
      else if (pattern && !String(value).includes('${') && !new RegExp(pattern).test(String(value)))
        problems.push(`  --param ${name}=${value}  is malformed: ${meaning} (for example ${example})`);
    }
    if (problems.length > 0) {
      const ServerlessError = serverless.classes.Error;
      throw new ServerlessError(`Stage "${stage}" needs these parameters (docs/deploy-aws.md#parameters):\n${problems.join('\n')}`, 'KMS_REQUIRED_PARAMS');
    }
  }
}

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
