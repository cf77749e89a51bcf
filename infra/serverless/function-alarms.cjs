'use strict';

/**
 * A local Serverless Framework plugin. Every Lambda function of the stack gets one alarm, into the
 * stage's alarm topic (`AlarmTopic` in serverless.yml's resources): its invocations that failed
 * (`Errors`: an exception, a timeout or a crash — an answer the function chose, even a 5xx, is
 * not one) plus those Lambda refused (`Throttles`), summed over five minutes, at 1 or more. It is
 * written when the stack is packaged, from the functions the stack holds, so a new Action is
 * watched without anyone writing its alarm. One alarm per function (metric math), not two: a
 * CloudFormation stack holds at most 500 resources. A function that already has an `Errors`
 * alarm of its own in serverless.yml (the scheduled jobs: a failed run means keys left undone)
 * gets its throttles watched here and its errors there, never twice.
 */
const PERIOD_SECONDS = 300;

class FunctionAlarms {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.addAlarms() };
  }

  addAlarms() {
    const service = this.serverless.service;
    const resources = service.provider.compiledCloudFormationTemplate.Resources;
    const declared = service.resources?.Resources || {};
    const alarmedOnErrors = new Set(
      Object.values(declared)
        .filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.Namespace === 'AWS/Lambda' && r.Properties.MetricName === 'Errors')
        .flatMap((r) => r.Properties.Dimensions.map((d) => d.Value?.Ref)),
    );
    const stage = this.serverless.getProvider('aws').getStage();
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const name = id.slice(0, -'LambdaFunction'.length);
      const metrics = alarmedOnErrors.has(id) ? ['Throttles'] : ['Errors', 'Throttles'];
      resources[`${name}FailuresAlarm`] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmName: `${service.service}-${stage}-${kebab(name)}-${metrics.map((m) => m.toLowerCase()).join('-')}`,
          AlarmDescription: `${resource.Properties.FunctionName}: invocations that ${metrics.length === 2 ? 'failed (an exception, a timeout or a crash) or ' : ''}Lambda throttled; see the function's logs and the account's concurrency.`,
          Metrics: [
            ...metrics.map((metric) => ({
              Id: metric.toLowerCase(),
              ReturnData: false,
              MetricStat: {
                Metric: { Namespace: 'AWS/Lambda', MetricName: metric, Dimensions: [{ Name: 'FunctionName', Value: { Ref: id } }] },
                Period: PERIOD_SECONDS,
                Stat: 'Sum',
              },
            })),
            { Id: 'failures', Label: metrics.join(' + '), Expression: `SUM([${metrics.map((m) => m.toLowerCase()).join(', ')}])`, ReturnData: true },
          ],
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: 'AlarmTopic' }],
        },
      };
    }
  }
}

/** `GenerateDataKey` → `generate-data-key`, as the alarm names of serverless.yml read. */
const kebab = (name) => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

module.exports = FunctionAlarms;
