/// <reference lib="webworker" />
// Builds evaluation reports off the page's thread: 1,000 bootstrap resamples of every statistic
// take seconds on a thousand images, and the Evaluate page must stay responsive meanwhile. The code
// is src/core/evaluation.ts / src/core/report.ts, exactly what `npm run evaluate` runs. Requests:
// ReportRpc (report-protocol.ts) over src/worker/rpc.ts.
import { buildEvaluationJson } from '../core/evaluation';
import { buildMetricsReport } from '../core/report';
import type { ReportRpc } from './report-protocol';
import { serve } from './rpc';

declare const self: DedicatedWorkerGlobalScope;

serve<ReportRpc>(self, {
  evaluation: (input) => buildEvaluationJson(input),
  metrics: (input) => buildMetricsReport(input),
});
