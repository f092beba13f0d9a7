// The one confusion matrix table (Model card, Evaluate, Train): rows the true class, columns the
// model's answer, each cell shaded by its share of the row (data-level 0–4; the diagonal in blue,
// errors in orange), carrying its count (data-count) and a spoken label ("true covid, predicted
// normal: 3 of 20 (15.0 %)"), shown as counts or as row percentages — with the other figure
// beneath when `secondary` is on.
import type { ReactNode } from 'react';
import { Explain } from './Explain';

function pct(share: number): string {
  return `${(100 * share).toFixed(1)} %`;
}

export function ConfusionTable(props: {
  classNames: readonly string[];
  matrix: readonly (readonly number[])[];
  mode: 'counts' | 'row';
  caption: ReactNode;
  /** Column heading word before the class name ("predicted", "called"). */
  answerWord: string;
  testId: string;
  /** Test id of every cell (for pages whose tests read the cells). */
  cellTestId?: string;
  /** Also show the other figure (row % under a count, or the count under a row %). */
  secondary?: boolean;
}) {
  const { classNames, matrix, mode, answerWord, secondary = false } = props;
  const total = matrix.flat().reduce((a, b) => a + b, 0);
  return (
    // Its own scroll box: on a phone a wide matrix scrolls inside, the page does not.
    <div className="table-scroll" tabIndex={0}>
      <table className="confusion" data-testid={props.testId} data-mode={mode} data-total={total}>
        <caption>
          {props.caption} <Explain term="confusion" />
        </caption>
        <thead>
          <tr>
            <td />
            {classNames.map((c) => (
              <th key={c} scope="col">
                {answerWord} {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {matrix.map((row, t) => {
            const rowSum = row.reduce((a, b) => a + b, 0);
            return (
              <tr key={t}>
                <th scope="row">true {classNames[t]}</th>
                {row.map((n, p) => {
                  const share = rowSum ? n / rowSum : 0;
                  const main = mode === 'counts' ? String(n) : rowSum ? pct(share) : '—';
                  const sub = mode === 'counts' ? (rowSum ? pct(share) : '—') : String(n);
                  return (
                    <td
                      key={p}
                      className={`confusion__cell${t === p ? ' confusion__cell--diag' : ' confusion__cell--off'}`}
                      data-level={Math.min(4, Math.floor(share * 5))}
                      data-count={n}
                      data-testid={props.cellTestId}
                      aria-label={`true ${classNames[t]}, ${answerWord} ${classNames[p]}: ${n} of ${rowSum}${rowSum ? ` (${pct(share)})` : ''}`}
                    >
                      {secondary ? (
                        <>
                          <span className="confusion__main">{main}</span>
                          <span className="confusion__sub">{sub}</span>
                        </>
                      ) : (
                        main
                      )}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
