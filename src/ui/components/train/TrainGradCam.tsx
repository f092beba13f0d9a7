// Grad-CAM of the fine-tuned model for one image of the misclassified gallery: the model input with
// the heatmap of a class (the predicted one by default, or any other chosen here) over it, an opacity
// slider and a colour legend. The training worker computes the map (src/ml/gradcam.ts); this only
// draws it with the shared helpers (upsampleHeatmap, colorizeHeatmap, heatmapLegendGradient).
import { useEffect, useId, useRef, useState } from 'react';
import { colorizeHeatmap, heatmapLegendGradient, upsampleHeatmap } from '../../../image/heatmap';
import type { GradCamReply } from '../../../worker/train-protocol';
import { GrayThumb } from './GrayThumb';
import { pct } from './evaluation';

const DISPLAY = 320;
const LEGEND = heatmapLegendGradient(10);

export interface GradCamViewProps {
  imageId: number;
  /** Name of the image (for labels). */
  path: string;
  classNames: string[];
  /** Class shown first (the predicted one). */
  initialClass: number;
  load: (imageId: number, classIndex: number) => Promise<GradCamReply>;
  /** Shown while the map loads: a small picture of the same model input. */
  placeholder?: { gray: Uint8Array; size: number };
}

/** The heatmap as RGBA on a canvas of the model input's size (opacity applied by CSS). */
function HeatmapCanvas({ result, opacity }: { result: GradCamReply; opacity: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const { size } = result;
    const values = upsampleHeatmap(result.heatmap, result.width, result.height, size, size);
    const rgba = colorizeHeatmap(values, 1);
    const img = ctx.createImageData(size, size);
    img.data.set(rgba);
    ctx.putImageData(img, 0, 0);
  }, [result]);
  return (
    <canvas
      ref={ref}
      width={result.size}
      height={result.size}
      className="tr-cam__overlay"
      style={{ width: DISPLAY, height: DISPLAY, opacity }}
      aria-hidden="true"
      data-testid="gradcam-overlay"
    />
  );
}

export function GradCamView({ imageId, path, classNames, initialClass, load, placeholder }: GradCamViewProps) {
  const id = useId();
  const [classIndex, setClassIndex] = useState(initialClass);
  const [opacity, setOpacity] = useState(0.5);
  const [result, setResult] = useState<GradCamReply | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  useEffect(() => {
    let alive = true;
    setLoading(true);
    setError(null);
    load(imageId, classIndex).then(
      (r) => {
        if (!alive) return;
        setResult(r);
        setLoading(false);
      },
      (e: Error) => {
        if (!alive) return;
        setError(e.message);
        setLoading(false);
      },
    );
    return () => {
      alive = false;
    };
  }, [imageId, classIndex, load]);

  const shown = result && result.classIndex === classIndex ? result : null;
  const className = classNames[classIndex] ?? `class ${classIndex}`;
  const status = error ? 'error' : loading || !shown ? 'loading' : 'ready';
  const picture = shown ?? result ?? placeholder;

  return (
    <figure className="tr-cam" data-testid="gradcam" data-status={status} data-class={shown ? shown.classIndex : ''} data-raw-max={shown ? shown.rawMax : ''}>
      <div className="tr-cam__stack" style={{ width: DISPLAY, height: DISPLAY }}>
        {picture ? (
          <GrayThumb
            gray={picture.gray}
            size={picture.size}
            display={DISPLAY}
            label={shown ? `${path}: model input with the Grad-CAM heatmap for ${className}` : `What the model saw: ${path}`}
          />
        ) : (
          <span className="tr-tile__blank" style={{ width: DISPLAY, height: DISPLAY }} />
        )}
        {shown && <HeatmapCanvas result={shown} opacity={opacity} />}
      </div>
      <figcaption className="tr-cam__controls">
        <div className="tr-field">
          <label htmlFor={`${id}-class`}>Heatmap for class</label>
          <select id={`${id}-class`} value={classIndex} onChange={(e) => setClassIndex(Number(e.currentTarget.value))} data-testid="gradcam-class">
            {classNames.map((c, i) => (
              <option key={c} value={i}>
                {c}
                {i === initialClass ? ' (predicted)' : ''}
              </option>
            ))}
          </select>
        </div>
        <div className="tr-field">
          <label htmlFor={`${id}-opacity`}>
            Heatmap opacity: <strong>{Math.round(opacity * 100)}%</strong>
          </label>
          <input
            id={`${id}-opacity`}
            type="range"
            min={0}
            max={1}
            step={0.05}
            value={opacity}
            onChange={(e) => setOpacity(Number(e.currentTarget.value))}
            data-testid="gradcam-opacity"
          />
        </div>
        <div className="tr-cam__legend" data-testid="gradcam-legend">
          <span className="tr-cam__bar" style={{ background: LEGEND }} aria-hidden="true" />
          <span className="tr-cam__ends">
            <span>low</span>
            <span>high</span>
          </span>
          <span className="muted">
            Grad-CAM: where the fine-tuned network found evidence for <strong>{className}</strong> (relative to this image's strongest evidence).
          </span>
        </div>
        {status === 'loading' && <p className="muted">Computing the heatmap…</p>}
        {error && (
          <p className="error-text" role="alert">
            No heatmap: {error}
          </p>
        )}
        {shown && shown.rawMax === 0 && (
          <p className="muted" data-testid="gradcam-empty">
            No region adds evidence for {className} in this image: the map is empty.
          </p>
        )}
        {shown && (
          <p className="muted">
            The model&apos;s answer for this image: {classNames[shown.predictedIndex]} {pct(shown.probabilities[shown.predictedIndex], 1)}.
          </p>
        )}
      </figcaption>
    </figure>
  );
}
