// Model picker for the Classify page: the shipped model or any model saved in this browser (Train
// page, or imported). Selecting one loads it into the inference worker from IndexedDB.
import { useEffect, useId, useState } from 'react';
import { listStoredModels, onStoredModelsChanged, readStoredModelFiles, type StoredModelSummary } from '../../ml/model-store';
import type { ModelSource } from '../../worker/protocol';
import { useClassifier } from '../hooks/useClassifier';
import { loadModel, shippedSource } from '../state/classifier';

const SHIPPED = '__shipped__';
const SAVED_PREFIX = 'saved: ';

/** The name the user saved the loaded model under, or null for the shipped or a dropped model. */
export function savedModelName(source: ModelSource | null | undefined): string | null {
  return source?.kind === 'artifacts' && source.label.startsWith(SAVED_PREFIX) ? source.label.slice(SAVED_PREFIX.length) : null;
}

export function ModelPicker() {
  const id = useId();
  const model = useClassifier();
  const [saved, setSaved] = useState<StoredModelSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    const refresh = () =>
      void listStoredModels().then(
        (list) => alive && setSaved(list),
        (e: Error) => alive && setError(e.message),
      );
    refresh();
    const off = onStoredModelsChanged(refresh);
    return () => {
      alive = false;
      off();
    };
  }, []);
  const src = model.source;
  const current = savedModelName(src) ?? SHIPPED;
  const choose = async (value: string) => {
    setError(null);
    try {
      if (value === SHIPPED) await loadModel(shippedSource());
      else await loadModel({ kind: 'artifacts', files: await readStoredModelFiles(value), label: SAVED_PREFIX + value });
    } catch (e) {
      setError((e as Error).message);
    }
  };
  if (!saved.length && current === SHIPPED) return null;
  return (
    <div className="model-picker" data-testid="model-picker">
      <label htmlFor={id}>Use model</label>{' '}
      <select
        id={id}
        value={current}
        disabled={model.status === 'loading'}
        onChange={(e) => void choose(e.currentTarget.value)}
        data-testid="model-picker-select"
      >
        <option value={SHIPPED}>Shipped model</option>
        {saved.map((m) => (
          <option key={m.name} value={m.name}>
            {m.name} ({m.classNames.join(', ')})
          </option>
        ))}
        {current !== SHIPPED && !saved.some((m) => m.name === current) && <option value={current}>{current} (deleted)</option>}
      </select>
      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
    </div>
  );
}
