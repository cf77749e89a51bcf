'use strict';

/**
 * A local Serverless Framework plugin. Every Lambda function of the stack is watched by an alarm
 * into the stage's alarm topic (`AlarmTopic` in serverless.yml's resources): its invocations that
 * failed (`Errors`: an exception, a timeout or a crash — an answer the function chose, even a 5xx,
 * is not one) plus those Lambda refused (`Throttles`), summed over five minutes, at 1 or more. The
 * alarms are written when the stack is packaged, from the functions the stack holds, so a new
 * Action is watched without anyone writing its alarm. A function that already has an `Errors`
 * alarm of its own in serverless.yml (the scheduled jobs: a failed run means keys left undone)
 * gets its throttles watched here and its errors there, never twice.
 *
 * A CloudFormation stack holds at most 500 resources, so functions share alarms: one metric-math
 * alarm sums the metrics of several functions, in the stack's order, as many as fit the
 * {@link MAX_METRICS} metrics an alarm may read (five functions, both metrics each). The alarm
 * names its functions in its description, and each metric of the alarm is one function's, so its
 * graph shows which one failed.
 */
const PERIOD_SECONDS = 300;
/** CloudWatch's hard limit on the metrics one metric-math alarm reads. */
const MAX_METRICS = 10;

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
    const watched = Object.entries(resources)
      .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
      .map(([id, resource]) => ({
        id,
        name: id.slice(0, -'LambdaFunction'.length),
        functionName: resource.Properties.FunctionName,
        metrics: alarmedOnErrors.has(id) ? ['Throttles'] : ['Errors', 'Throttles'],
      }));
    const groups = [];
    for (const fn of watched) {
      const last = groups.at(-1);
      if (last && last.reduce((n, f) => n + f.metrics.length, 0) + fn.metrics.length <= MAX_METRICS) last.push(fn);
      else groups.push([fn]);
    }
    groups.forEach((group, index) => {
      const n = index + 1;
      const queries = group.flatMap((fn) =>
        fn.metrics.map((metric) => ({
          Id: `${metric.toLowerCase()}_${fn.name}`,
          Label: `${fn.functionName} ${metric}`,
          ReturnData: false,
          MetricStat: {
            Metric: { Namespace: 'AWS/Lambda', MetricName: metric, Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn.id } }] },
            Period: PERIOD_SECONDS,
            Stat: 'Sum',
          },
        })),
      );
      resources[`FunctionFailures${n}Alarm`] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmName: `${service.service}-${stage}-function-failures-${n}`,
          AlarmDescription: `Invocations that failed (an exception, a timeout or a crash) or Lambda throttled, in one of: ${group
            .map((fn) => `${fn.functionName} (${fn.metrics.join(', ')})`)
            .join('; ')}. The alarm's metrics say which function; see its logs and the account's concurrency.`,
          Metrics: [...queries, { Id: 'failures', Label: 'Errors + Throttles', Expression: `SUM([${queries.map((q) => q.Id).join(', ')}])`, ReturnData: true }],
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: 'AlarmTopic' }],
        },
      };
    });
  }
}

module.exports = FunctionAlarms;
