import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** The CloudWatch metric every 5xx answer on Lambda adds one to (serverless.yml alarms on it). */
export const SERVER_ERRORS_METRIC = 'ServerErrors';

let metrics: Metrics | undefined;

/**
 * Counts one 5xx answer as a CloudWatch metric, written as an Embedded Metric Format line (no API
 * call, no metric filter): namespace POWERTOOLS_METRICS_NAMESPACE (default `kms`), dimension
 * `service` (POWERTOOLS_SERVICE_NAME). Served requests write nothing here: only failures cost a line.
 */
export function countServerError(): void {
  metrics ??= new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'kms',
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'kms',
  });
  metrics.addMetric(SERVER_ERRORS_METRIC, MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
}
