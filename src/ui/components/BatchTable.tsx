import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Row, RowStatus } from '../state/batch';
import { oodHeadline, oodOf } from '../lib/ood';
import { filterRows, sortRows, type SortKey, type SortState, type TableFilter } from '../lib/table';
import { verdictOf } from '../lib/verdict';
import { CovidScreenCell } from './CovidScreen';
import { LabelBadge } from './LabelBadge';
import { formatPct } from './ProbabilityBars';
import { thumbnailUrl } from '../lib/thumbs';

export { filterRows, type TableFilter } from '../lib/table';

/** In a batch of more rows than this only the rows in view (plus OVERSCAN each side) are in the DOM. */
export const VIRTUALISE_ABOVE = 150;
const OVERSCAN = 10;
/** Row height the CSS gives every result row (one line, 40 px thumbnail); measured once rendered. */
const DEFAULT_ROW_HEIGHT = 49;

const STATUS_TEXT: Record<RowStatus, string> = { queued: 'queued', running: 'working…', done: 'done', error: 'error', cancelled: 'cancelled' };

const TableRow = memo(function TableRow({
  row,
  index,
  classNames,
  selected,
  onSelect,
}: {
  row: Row;
  index: number;
  classNames: string[];
  selected: boolean;
  onSelect: (key: number) => void;
}) {
  const r = row.result;
  const ood = oodOf(r);
  const withheld = ood?.flagged === true;
  return (
    <tr
      data-testid="result-row"
      data-file={row.name}
      data-status={row.status}
      data-withheld={withheld}
      className={['result-row', selected ? 'is-selected' : '', withheld ? 'is-withheld' : ''].filter(Boolean).join(' ')}
      aria-selected={selected}
      aria-rowindex={index + 2}
    >
      <td className="num">{row.key}</td>
      <td className="thumb-cell">
        {r ? (
          <img
            className="thumb"
            src={thumbnailUrl(r.thumbnail.gray, r.thumbnail.size)}
            width={40}
            height={40}
            alt={`Model input for ${row.name}`}
            data-testid="model-input"
            decoding="async"
          />
        ) : null}
      </td>
      <th scope="row" className="file-cell">
        <button
          type="button"
          className="linklike file-name"
          onClick={() => onSelect(row.key)}
          aria-label={`Show details for ${row.name}`}
          title={row.name}
          data-testid="row-file"
        >
          {row.name}
        </button>
      </th>
      <td title={r ? verdictOf(r).headline : undefined}>
        {r ? <LabelBadge prediction={r.prediction} withheld={withheld} /> : <span className={`status status--${row.status}`}>{STATUS_TEXT[row.status]}</span>}
      </td>
      {classNames.map((c, i) => (
        <td key={c} className="num" data-testid={`cell-${c}`} data-value={r ? r.prediction.probabilities[i] : undefined}>
          {r ? (
            withheld ? (
              // No number or bar for a class the page does not present (the value stays in data-value and the CSV).
              <span className="muted" title="withheld: the input may not be a chest X-ray">
                <span aria-hidden="true">—</span>
                <span className="sr-only">withheld</span>
              </span>
            ) : (
              <span className="cellbar">
                <span className="cellbar__fill" style={{ width: `${(r.prediction.probabilities[i] * 100).toFixed(1)}%` }} aria-hidden="true" />
                <span className="cellbar__text">{formatPct(r.prediction.probabilities[i])}</span>
              </span>
            )
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
      <td data-testid="cell-status" className="status-cell">
        {row.status === 'error' ? (
          <span className="error-text" data-testid="row-error" title={row.error}>
            {row.error}
          </span>
        ) : (
          STATUS_TEXT[row.status]
        )}
      </td>
    </tr>
  );
});

/** The slice of `count` rows in view of a scroll container, from its scroll position. */
function windowOf(count: number, scrollTop: number, viewport: number, rowHeight: number, headerHeight: number): { start: number; end: number } {
  const inView = Math.ceil(viewport / rowHeight);
  // A filter can shrink the list below the scroll position before the browser clamps it.
  const first = Math.min(Math.floor(Math.max(0, scrollTop - headerHeight) / rowHeight), Math.max(0, count - inView));
  const start = Math.max(0, first - OVERSCAN);
  const end = Math.min(count, first + inView + OVERSCAN);
  return { start, end };
}

/**
 * Sortable, filterable table of the batch. Up to VIRTUALISE_ABOVE rows it renders every row; above,
 * the table scrolls in its own box and renders only the rows in view, with spacer rows standing in
 * for the rest (so thousands of results cost a few dozen rows of DOM).
 */
export function BatchTable({
  rows,
  classNames,
  selectedKey,
  onSelect,
  filter,
  onFilter,
  sort,
  onSort,
}: {
  rows: Row[];
  classNames: string[];
  selectedKey: number | null;
  onSelect: (key: number) => void;
  filter: TableFilter;
  onFilter: (f: TableFilter) => void;
  sort: SortState;
  onSort: (s: SortState) => void;
}) {
  const visible = useMemo(() => sortRows(filterRows(rows, filter), sort), [rows, filter, sort]);
  // By the batch's size, not the filtered count: a filter that leaves 100 of 2,000 rows must not
  // mount 100 rows at once.
  const virtual = rows.length > VIRTUALISE_ABOVE;
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ scrollTop: 0, viewport: 800, rowHeight: DEFAULT_ROW_HEIGHT, headerHeight: 40 });
  const frame = useRef<number | null>(null);

  // Measured in animation frames and on resize, never in a layout effect: a forced synchronous
  // layout in the middle of a commit is what made big batches stall.
  const measure = useCallback(() => {
    frame.current = null;
    const el = scroller.current;
    if (!el) return;
    const row = el.querySelector<HTMLElement>('tr.result-row');
    const head = el.querySelector<HTMLElement>('thead');
    const next = {
      scrollTop: el.scrollTop,
      viewport: el.clientHeight || 800,
      rowHeight: row?.offsetHeight || DEFAULT_ROW_HEIGHT,
      headerHeight: head?.offsetHeight || 40,
    };
    setView((v) =>
      v.scrollTop === next.scrollTop && v.viewport === next.viewport && v.rowHeight === next.rowHeight && v.headerHeight === next.headerHeight ? v : next,
    );
  }, []);
  const onScroll = useCallback(() => {
    if (frame.current === null) frame.current = requestAnimationFrame(measure);
  }, [measure]);
  useEffect(() => {
    const el = scroller.current;
    if (!virtual || !el) return;
    onScroll();
    const observer = new ResizeObserver(onScroll);
    observer.observe(el);
    return () => observer.disconnect();
  }, [virtual, onScroll]);
  useEffect(() => () => void (frame.current !== null && cancelAnimationFrame(frame.current)), []);

  const { start, end } = virtual
    ? windowOf(visible.length, view.scrollTop, view.viewport, view.rowHeight, view.headerHeight)
    : { start: 0, end: visible.length };
  const columns = 8 + classNames.length;

  const toggle = (key: SortKey, numeric: boolean) => onSort({ key, dir: sort.key === key ? (-sort.dir as 1 | -1) : numeric ? -1 : 1 });
  const header = (key: SortKey, text: string, numeric = false, testId = `sort-${key}`) => {
    const active = sort.key === key;
    return (
      <th scope="col" className={numeric ? 'num' : undefined} aria-sort={active ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'} key={key}>
        <button type="button" className="sort" data-testid={testId} onClick={() => toggle(key, numeric)}>
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
      <div
        ref={scroller}
        className={`table-scroll${virtual ? ' table-scroll--virtual' : ''}`}
        tabIndex={0}
        role="region"
        aria-label="Batch results table"
        onScroll={virtual ? onScroll : undefined}
        data-testid="table-scroll"
      >
        <table data-testid="results-table" aria-rowcount={visible.length + 1}>
          <caption className="sr-only">Results, one row per file. Column headers sort the table.</caption>
          <thead>
            <tr aria-rowindex={1}>
              {header('order', '#', false)}
              <th scope="col">
                <span className="sr-only">Model input</span>
              </th>
              {header('name', 'File')}
              {header('label', 'Prediction')}
              {classNames.map((c, i) => header(`p:${i}`, c, true, `sort-p-${c}`))}
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
            {start > 0 && (
              <tr aria-hidden="true" className="spacer" style={{ height: start * view.rowHeight }}>
                <td colSpan={columns} />
              </tr>
            )}
            {visible.slice(start, end).map((r, i) => (
              <TableRow key={r.key} row={r} index={start + i} classNames={classNames} selected={r.key === selectedKey} onSelect={onSelect} />
            ))}
            {end < visible.length && (
              <tr aria-hidden="true" className="spacer" style={{ height: (visible.length - end) * view.rowHeight }}>
                <td colSpan={columns} />
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
