// Promise client of the report worker (report.worker.ts, ReportRpc over src/worker/rpc.ts): one
// worker, started on first use, started again after a crash.
import type { EvaluationInput, EvaluationJson } from '../core/evaluation';
import type { MetricsReport, ReportInput } from '../core/report';
import type { ReportRpc } from './report-protocol';
import { type RpcClient, workerClient } from './rpc';

let rpc: RpcClient<ReportRpc> | null = null;

function client(): RpcClient<ReportRpc> {
  if (!rpc) {
    const worker = new Worker(new URL('./report.worker.ts', import.meta.url), { type: 'module', name: 'cxr-report' });
    const started = workerClient<ReportRpc>(worker, {
      crashed: (f) => {
        rpc = null;
        return new Error(
          f.kind === 'messageerror' ? 'a report worker message could not be read' : `the report worker crashed: ${f.message || 'could not start'}`,
        );
      },
    });
    rpc = started.rpc;
  }
  return rpc;
}

export function buildEvaluationInWorker(input: EvaluationInput): Promise<EvaluationJson> {
  return client().call('evaluation', input);
}

export function buildMetricsInWorker(input: ReportInput): Promise<MetricsReport> {
  return client().call('metrics', input);
}
