// The confusion matrix table of the Model card and the Evaluate page: rows the true class, columns
// the model's answer, each cell shaded by its share of the row (data-level 0–4) and carrying its
// count (data-count), shown as counts or as row percentages.
import { Explain } from './Explain';

export function ConfusionTable(props: {
  classNames: readonly string[];
  matrix: readonly (readonly number[])[];
  mode: 'counts' | 'row';
  caption: string;
  /** Column heading word before the class name ("predicted", "called"). */
  answerWord: string;
  testId: string;
}) {
  const { classNames, matrix, mode } = props;
  return (
    // Its own scroll box: on a phone a wide matrix scrolls inside, the page does not.
    <div className="table-scroll" tabIndex={0}>
      <table className="confusion" data-testid={props.testId} data-mode={mode}>
        <caption>
          {props.caption} <Explain term="confusion" />
        </caption>
        <thead>
          <tr>
            <td />
            {classNames.map((c) => (
              <th key={c} scope="col">
                {props.answerWord} {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {matrix.map((row, t) => {
            const total = row.reduce((a, b) => a + b, 0);
            return (
              <tr key={t}>
                <th scope="row">true {classNames[t]}</th>
                {row.map((n, p) => {
                  const share = total ? n / total : 0;
                  return (
                    <td
                      key={p}
                      className={`confusion__cell${t === p ? ' confusion__cell--diag' : ''}`}
                      data-level={Math.min(4, Math.floor(share * 5))}
                      data-count={n}
                    >
                      {mode === 'counts' ? n : total ? `${(100 * share).toFixed(1)} %` : '—'}
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
