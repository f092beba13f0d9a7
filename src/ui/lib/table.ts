// Filtering and sorting of the Classify page's results table (pure: no React, no DOM), shared by
// the table and the CSV export of the filtered rows.
import type { Row } from '../state/batch';
import { oodOf } from './ood';

export type SortKey = 'order' | 'name' | 'label' | 'time' | 'status' | `p:${number}`;

export interface SortState {
  key: SortKey;
  dir: 1 | -1;
}

export interface TableFilter {
  text: string;
  /** 'all' | a class name | 'uncertain' | 'error' | 'screen-positive' | 'ood' */
  show: string;
}

export const NO_FILTER: TableFilter = { text: '', show: 'all' };

export function isFiltering(f: TableFilter): boolean {
  return f.text.trim() !== '' || f.show !== 'all';
}

export function filterRows(rows: readonly Row[], f: TableFilter): Row[] {
  const text = f.text.trim().toLowerCase();
  return rows.filter((r) => {
    if (text && !r.name.toLowerCase().includes(text)) return false;
    if (f.show === 'all') return true;
    if (f.show === 'error') return r.status === 'error';
    const withheld = oodOf(r.result)?.flagged === true;
    if (f.show === 'ood') return withheld;
    if (f.show === 'uncertain') return !withheld && !!r.result?.prediction.uncertain;
    if (f.show === 'screen-positive') return !withheld && r.result?.covidScreen?.positive === true;
    return !withheld && r.result?.prediction.label === f.show;
  });
}

/**
 * Sorting by a class or by the prediction ranks rows with a presented class first, then withheld
 * ones (their class and probabilities are not shown), then rows without a result — in either
 * direction: a withheld image must never top "most covid first".
 */
function tier(r: Row, key: SortKey): number {
  if (key !== 'label' && !key.startsWith('p:')) return 0;
  if (!r.result) return 2;
  return oodOf(r.result)?.flagged ? 1 : 0;
}

function sortValue(r: Row, key: SortKey): string | number {
  if (key === 'order') return r.key;
  if (key === 'name') return r.name.toLowerCase();
  if (key === 'status') return r.status;
  if (key === 'label') return r.result?.prediction.label ?? '';
  if (key === 'time') return r.result ? r.result.timings.inferenceMs : Infinity;
  const i = Number(key.slice(2));
  return r.result ? r.result.prediction.probabilities[i] : -Infinity;
}

export function sortRows(rows: readonly Row[], sort: SortState): Row[] {
  if (sort.key === 'order') return sort.dir === 1 ? [...rows] : [...rows].reverse();
  return rows
    .map((r) => ({ r, t: tier(r, sort.key), v: sortValue(r, sort.key) }))
    .sort((a, b) => a.t - b.t || (a.v < b.v ? -1 : a.v > b.v ? 1 : 0) * sort.dir || a.r.key - b.r.key)
    .map((x) => x.r);
}
