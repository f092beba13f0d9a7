import { memo, useMemo, useState } from 'react';
import type { Row, RowStatus } from '../hooks/useBatch';
import { oodHeadline, oodOf } from '../lib/ood';
import { CovidScreenCell } from './CovidScreen';
import { LabelBadge } from './LabelBadge';
import { formatPct } from './ProbabilityBars';
import { Thumbnail } from './Thumbnail';

type SortKey = 'order' | 'name' | 'label' | 'time' | 'status' | `p:${number}`;

export interface TableFilter {
  text: string;
  /** 'all' | a class name | 'uncertain' | 'error' | 'screen-positive' | 'ood' */
  show: string;
}

function sortValue(r: Row, key: SortKey): string | number {
  if (key === 'order') return r.key;
  if (key === 'name') return r.name.toLowerCase();
  if (key === 'status') return r.status;
  if (key === 'label') return r.result ? (oodOf(r.result)?.flagged ? '\ufffe' : r.result.prediction.label) : '\uffff';
  if (key === 'time') return r.result ? r.result.timings.inferenceMs : Infinity;
  const i = Number(key.slice(2));
  return r.result ? r.result.prediction.probabilities[i] : -Infinity;
}

export function filterRows(rows: Row[], f: TableFilter): Row[] {
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

const STATUS_TEXT: Record<RowStatus, string> = { queued: 'queued', running: 'working…', done: 'done', error: 'error', cancelled: 'cancelled' };

const TableRow = memo(function TableRow({ row, classNames, selected, onSelect }: { row: Row; classNames: string[]; selected: boolean; onSelect: (key: number) => void }) {
  const r = row.result;
  const ood = oodOf(r);
  const withheld = ood?.flagged === true;
  return (
    <tr
      data-testid="result-row"
      data-file={row.name}
      data-status={row.status}
      data-withheld={withheld}
      className={[selected ? 'is-selected' : '', withheld ? 'is-withheld' : ''].filter(Boolean).join(' ') || undefined}
      aria-selected={selected}
    >
      <td className="num">{row.key}</td>
      <td>{r ? <Thumbnail gray={r.thumbnail.gray} size={r.thumbnail.size} display={40} label={`Model input for ${row.name}`} /> : null}</td>
      <th scope="row" className="file-cell">
        <button type="button" className="linklike" onClick={() => onSelect(row.key)} aria-label={`Show details for ${row.name}`} data-testid="row-file">
          {row.name}
        </button>
      </th>
      <td>{r ? <LabelBadge prediction={r.prediction} withheld={withheld} /> : <span className={`status status--${row.status}`}>{STATUS_TEXT[row.status]}</span>}</td>
      {classNames.map((c, i) => (
        <td key={c} className="num" data-testid={`cell-${c}`} data-value={r ? r.prediction.probabilities[i] : undefined}>
          {r ? (
            <span className="cellbar">
              <span className="cellbar__fill" style={{ width: `${(r.prediction.probabilities[i] * 100).toFixed(1)}%` }} aria-hidden="true" />
              <span className="cellbar__text">{formatPct(r.prediction.probabilities[i])}</span>
            </span>
          ) : (
            ''
          )}
        </td>
      ))}
      <td data-testid="screen-cell" data-state={r?.covidScreen ? (withheld ? 'withheld' : r.covidScreen.positive ? 'positive' : 'negative') : 'none'}>
        {r ? <CovidScreenCell decision={r.covidScreen} withheld={withheld} /> : ''}
      </td>
      <td data-testid="ood-cell" data-flagged={ood ? ood.flagged : undefined}>
        {ood ? (
          ood.flagged ? (
            <span className="badge badge--ood" title={oodHeadline(ood)}>
              not a CXR?
            </span>
          ) : (
            <span className="muted">ok</span>
          )
        ) : (
          ''
        )}
      </td>
      <td className="num" data-testid="cell-time">
        {r ? r.timings.inferenceMs.toFixed(1) : ''}
      </td>
      <td data-testid="cell-status">
        {row.status === 'error' ? (
          <span className="error-text" data-testid="row-error">
            {row.error}
          </span>
        ) : (
          STATUS_TEXT[row.status]
        )}
      </td>
    </tr>
  );
});

/** Sortable, filterable table of the batch. */
export function BatchTable({
  rows,
  classNames,
  selectedKey,
  onSelect,
  filter,
  onFilter,
}: {
  rows: Row[];
  classNames: string[];
  selectedKey: number | null;
  onSelect: (key: number) => void;
  filter: TableFilter;
  onFilter: (f: TableFilter) => void;
}) {
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: 'order', dir: 1 });
  const visible = useMemo(() => {
    const list = filterRows(rows, filter);
    if (sort.key === 'order' && sort.dir === 1) return list;
    return [...list].sort((a, b) => {
      const va = sortValue(a, sort.key);
      const vb = sortValue(b, sort.key);
      return (va < vb ? -1 : va > vb ? 1 : a.key - b.key) * sort.dir;
    });
  }, [rows, filter, sort]);

  const header = (key: SortKey, text: string, numeric = false) => {
    const active = sort.key === key;
    return (
      <th scope="col" className={numeric ? 'num' : undefined} aria-sort={active ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}>
        <button
          type="button"
          className="sort"
          data-testid={`sort-${key}`}
          onClick={() => setSort((s) => ({ key, dir: s.key === key ? ((-s.dir) as 1 | -1) : numeric ? -1 : 1 }))}
        >
          {text}
          <span aria-hidden="true" className="sort__icon">
            {active ? (sort.dir === 1 ? '▲' : '▼') : '↕'}
          </span>
        </button>
      </th>
    );
  };

  return (
    <div className="batch-table">
      <div className="filters" role="group" aria-label="Filter results">
        <label>
          Search file names{' '}
          <input type="search" value={filter.text} onChange={(e) => onFilter({ ...filter, text: e.currentTarget.value })} data-testid="filter-text" />
        </label>
        <label>
          Show{' '}
          <select value={filter.show} onChange={(e) => onFilter({ ...filter, show: e.currentTarget.value })} data-testid="filter-show">
            <option value="all">all rows</option>
            {classNames.map((c) => (
              <option key={c} value={c}>
                predicted {c}
              </option>
            ))}
            <option value="uncertain">uncertain</option>
            <option value="screen-positive">covid screen positive</option>
            <option value="ood">flagged: not a chest X-ray?</option>
            <option value="error">errors</option>
          </select>
        </label>
        <span className="muted" aria-live="polite" data-testid="visible-count">
          {visible.length} of {rows.length} rows
        </span>
      </div>
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Batch results table">
        <table data-testid="results-table">
          <caption className="sr-only">Results, one row per file. Column headers sort the table.</caption>
          <thead>
            <tr>
              {header('order', '#', false)}
              <th scope="col">
                <span className="sr-only">Model input</span>
              </th>
              {header('name', 'File')}
              {header('label', 'Prediction')}
              {classNames.map((c, i) => (
                <th key={c} scope="col" className="num" aria-sort={sort.key === `p:${i}` ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}>
                  <button type="button" className="sort" data-testid={`sort-p-${c}`} onClick={() => setSort((s) => ({ key: `p:${i}`, dir: s.key === `p:${i}` ? ((-s.dir) as 1 | -1) : -1 }))}>
                    {c}
                    <span aria-hidden="true" className="sort__icon">
                      {sort.key === `p:${i}` ? (sort.dir === 1 ? '▲' : '▼') : '↕'}
                    </span>
                  </button>
                </th>
              ))}
              <th scope="col" title="Covid operating point: calibrated covid probability at or above the model's threshold">
                covid screen
              </th>
              <th scope="col" title="Out-of-distribution check: does the input look like a chest X-ray?">
                Input check
              </th>
              {header('time', 'ms', true)}
              {header('status', 'Status')}
            </tr>
          </thead>
          <tbody>
            {visible.map((r) => (
              <TableRow key={r.key} row={r} classNames={classNames} selected={r.key === selectedKey} onSelect={onSelect} />
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
