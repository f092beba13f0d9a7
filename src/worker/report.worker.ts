/// <reference lib="webworker" />
// Builds evaluation reports off the page's thread: 1,000 bootstrap resamples of every statistic
// take seconds on a thousand images, and the Evaluate page must stay responsive meanwhile. The code
// is src/core/evaluation.ts / src/core/report.ts, exactly what `npm run evaluate` runs.
import { buildEvaluationJson } from '../core/evaluation';
import { buildMetricsReport } from '../core/report';
import type { ReportRequest, ReportResponse } from './report-client';

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = (ev: MessageEvent<ReportRequest>) => {
  const req = ev.data;
  let msg: ReportResponse;
  try {
    msg =
      req.kind === 'evaluation'
        ? { id: req.id, kind: 'evaluation', json: buildEvaluationJson(req.input) }
        : { id: req.id, kind: 'metrics', report: buildMetricsReport(req.input) };
  } catch (e) {
    msg = { id: req.id, kind: 'error', message: (e as Error)?.message ?? String(e) };
  }
  self.postMessage(msg);
};
