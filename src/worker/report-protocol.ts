// The report worker's protocol (src/worker/rpc.ts request map): build an evaluation JSON or a
// metrics report from the numbers the Evaluate page collected (src/core/evaluation.ts, report.ts).
import type { EvaluationInput, EvaluationJson } from '../core/evaluation';
import type { MetricsReport, ReportInput } from '../core/report';

export type ReportRpc = {
  evaluation: { request: EvaluationInput; reply: EvaluationJson };
  metrics: { request: ReportInput; reply: MetricsReport };
};
