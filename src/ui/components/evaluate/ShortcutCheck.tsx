// The shortcut check on the user's films: the images again with only the border and with only the
// centre visible (`npm run audit`'s masks), side by side with the full images.
import { MODE_DESCRIPTIONS, CENTRE_FRACTION } from '../../../core/audit';
import type { EvaluationJson } from '../../../core/evaluation';
import { runShortcutCheck, cancelEvaluation, type ShortcutState } from '../../state/evaluation';
import { fmt } from '../../lib/metricsView';
import { ProgressBar } from '../ProgressBar';

export function ShortcutCheck({ report, state, busy }: { report: EvaluationJson; state: ShortcutState; busy: boolean }) {
  const majority = report.majorityClass;
  const running = state.status === 'running';
  return (
    <div data-testid="evaluate-shortcut" data-status={state.status}>
      <p>
        Does the model read the lungs or the film? One click classifies the same {report.n} images twice more: with the central {CENTRE_FRACTION * 100} %
        blacked out (only borders, text and markers remain), and with everything outside it blacked out (mostly lung fields).
      </p>
      <div className="toolbar__actions">
        <button type="button" onClick={() => void runShortcutCheck()} disabled={running || busy || report.n === 0} data-testid="evaluate-shortcut-run">
          {state.status === 'done' ? 'Run the shortcut check again' : 'Run the shortcut check'}
        </button>
        {running && (
          <button type="button" onClick={cancelEvaluation} data-testid="evaluate-shortcut-cancel">
            Cancel
          </button>
        )}
      </div>
      {running && (
        <div className="batch-progress">
          <ProgressBar value={state.total ? state.done / state.total : null} label="Shortcut check progress" />
          <span>
            {state.done} / {state.total}
          </span>
        </div>
      )}
      {state.status === 'error' && (
        <p role="alert" className="error-text">
          {state.error}
        </p>
      )}
      {state.status === 'cancelled' && <p className="muted">Cancelled.</p>}
      {state.modes.length === 3 && (
        <>
          <div className="table-scroll">
            <table data-testid="evaluate-shortcut-table">
              <thead>
                <tr>
                  <th scope="col">What the model sees</th>
                  <th scope="col" className="num">
                    accuracy
                  </th>
                  <th scope="col" className="num">
                    balanced accuracy
                  </th>
                  <th scope="col" className="num">
                    macro AUC
                  </th>
                  {report.classNames.map((c) => (
                    <th key={c} scope="col" className="num">
                      {c} sensitivity
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {state.modes.map((m) => (
                  <tr key={m.mode} data-testid="evaluate-shortcut-row" data-mode={m.mode} data-accuracy={m.accuracy ?? ''}>
                    <th scope="row" title={MODE_DESCRIPTIONS[m.mode]}>
                      {m.mode}
                    </th>
                    <td className="num">{fmt(m.accuracy)}</td>
                    <td className="num">{fmt(m.balancedAccuracy)}</td>
                    <td className="num">{fmt(m.macroAuc)}</td>
                    {report.classNames.map((c) => (
                      <td key={c} className="num">
                        {fmt(m.recall[c])}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p data-testid="evaluate-shortcut-reading">
            How to read it: a model that reads the lungs keeps most of its accuracy with the centre only, and falls to about the majority-class rate
            {majority ? ` (${fmt(majority.rate)}, always “${majority.className}”)` : ''} or the chance level of balanced accuracy (
            {fmt(1 / report.classNames.length)}) with the border only. Border-only scores well above those mean the model recognises where the films come from
            (markers, text, framing), not the disease.
          </p>
        </>
      )}
    </div>
  );
}
