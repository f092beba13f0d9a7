// Promise client of the report worker (report.worker.ts): one worker, started on first use.
import type { EvaluationInput, EvaluationJson } from '../core/evaluation';
import type { MetricsReport, ReportInput } from '../core/report';

export type ReportRequest = { id: number; kind: 'evaluation'; input: EvaluationInput } | { id: number; kind: 'metrics'; input: ReportInput };
export type ReportResponse =
  | { id: number; kind: 'evaluation'; json: EvaluationJson }
  | { id: number; kind: 'metrics'; report: MetricsReport }
  | { id: number; kind: 'error'; message: string };

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, { resolve: (r: ReportResponse) => void; reject: (e: Error) => void }>();

function send(body: Omit<ReportRequest, 'id'>): Promise<ReportResponse> {
  if (!worker) {
    worker = new Worker(new URL('./report.worker.ts', import.meta.url), { type: 'module', name: 'cxr-report' });
    worker.onmessage = (ev: MessageEvent<ReportResponse>) => {
      const p = pending.get(ev.data.id);
      pending.delete(ev.data.id);
      p?.resolve(ev.data);
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      for (const p of pending.values()) p.reject(new Error(`the report worker crashed: ${ev.message || 'could not start'}`));
      pending.clear();
      worker = null;
    };
  }
  const id = nextId++;
  const w = worker;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.postMessage({ ...body, id } as ReportRequest);
  });
}

export async function buildEvaluationInWorker(input: EvaluationInput): Promise<EvaluationJson> {
  const r = await send({ kind: 'evaluation', input });
  if (r.kind === 'error') throw new Error(r.message);
  if (r.kind !== 'evaluation') throw new Error('unexpected answer from the report worker');
  return r.json;
}

export async function buildMetricsInWorker(input: ReportInput): Promise<MetricsReport> {
  const r = await send({ kind: 'metrics', input });
  if (r.kind === 'error') throw new Error(r.message);
  if (r.kind !== 'metrics') throw new Error('unexpected answer from the report worker');
  return r.report;
}
