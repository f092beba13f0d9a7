// The model input of a result with its Grad-CAM heatmap: computed in the inference worker on the
// model's last conv layer (metadata.layers.lastConv) for the predicted class or any class picked
// here, upsampled and drawn over the image the model saw, or projected over the whole original image
// (the model only saw a centred crop; the rest is dimmed). Opacity slider, colour legend, keyboard
// accessible controls. Drawing uses the pure helpers of src/image/heatmap (no tfjs on this page).
import { Explain } from './Explain';
import { memo, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import type { ClassifyResult, GradCamPayload } from '../../worker/protocol';
import { colorizeHeatmap, heatmapLegendGradient, projectHeatmap, upsampleHeatmap } from '../../image/heatmap';
import { useGradCam, useGradCamPrefs, type GradCamState } from '../hooks/useGradCam';
import { Thumbnail } from './Thumbnail';

const INPUT_DISPLAY = 192;
const ORIGINAL_BOX = 320;
const LEGEND = heatmapLegendGradient(10);
/** Share of brightness kept outside the crop the model saw, in the whole-image view. */
const OUTSIDE_DIM = 0.45;

/** The heatmap alone, at the model input's resolution, for stacking over the thumbnail. */
function InputHeatmap({ payload, opacity, className }: { payload: GradCamPayload; opacity: number; className: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const size = payload.inputSize;
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const values = upsampleHeatmap(payload.heatmap, payload.width, payload.height, size, size);
    const img = ctx.createImageData(size, size);
    img.data.set(colorizeHeatmap(values, opacity));
    ctx.putImageData(img, 0, 0);
  }, [payload, opacity, size]);
  return (
    <canvas
      ref={ref}
      width={size}
      height={size}
      className="cam__overlay"
      style={{ width: INPUT_DISPLAY, height: INPUT_DISPLAY }}
      aria-hidden="true"
      data-testid="gradcam-overlay"
      data-class={className}
      data-opacity={opacity}
    />
  );
}

/** The original image (downscaled preview) with the heatmap projected over the part the model saw. */
function OriginalHeatmap({ payload, opacity, label, className }: { payload: GradCamPayload; opacity: number; label: string; className: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const { preview } = payload.original;
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const { width: w, height: h, gray } = preview;
    const values = projectHeatmap(payload.heatmap, payload.width, payload.height, payload.original, payload.original.crop, w, h);
    const heat = colorizeHeatmap(values, opacity);
    const img = ctx.createImageData(w, h);
    const d = img.data;
    for (let i = 0; i < w * h; i++) {
      const g = gray[i];
      if (Number.isNaN(values[i])) {
        const v = Math.round(g * OUTSIDE_DIM);
        d[i * 4] = v;
        d[i * 4 + 1] = v;
        d[i * 4 + 2] = v;
      } else {
        const a = heat[i * 4 + 3] / 255;
        d[i * 4] = Math.round(g * (1 - a) + heat[i * 4] * a);
        d[i * 4 + 1] = Math.round(g * (1 - a) + heat[i * 4 + 1] * a);
        d[i * 4 + 2] = Math.round(g * (1 - a) + heat[i * 4 + 2] * a);
      }
      d[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [payload, opacity, preview]);
  const scale = Math.min(ORIGINAL_BOX / preview.width, ORIGINAL_BOX / preview.height);
  return (
    <canvas
      ref={ref}
      width={preview.width}
      height={preview.height}
      className="cam__original"
      // Narrow screens: at most the column's width, keeping the aspect ratio.
      style={{ width: Math.round(preview.width * scale), maxWidth: '100%', height: 'auto', aspectRatio: `${preview.width} / ${preview.height}` }}
      role="img"
      aria-label={label}
      data-testid="gradcam-original"
      data-class={className}
      data-opacity={opacity}
    />
  );
}

function statusText(state: GradCamState, classNames: string[]): ReactNode {
  if (state.status === 'loading') return 'Computing the heatmap…';
  if (state.status === 'error') return <span className="error-text">No heatmap: {state.message}</span>;
  if (state.status !== 'ready') return null;
  const p = state.payload;
  const name = classNames[p.classIndex] ?? `class ${p.classIndex}`;
  if (p.rawMax === 0) return <span data-testid="gradcam-empty">No region of this image adds evidence for {name}: the map is empty.</span>;
  return (
    <>
      Grad-CAM for <strong>{name}</strong> on layer <code>{p.layer}</code> ({p.width}×{p.height} cells, upsampled), {p.ms.toFixed(0)} ms.
    </>
  );
}

/**
 * The left column of a result card: the model input (with the heatmap when shown) and the Grad-CAM
 * controls. `children` is stacked over the thumbnail (e.g. other overlays).
 */
export const GradCamOverlay = memo(function GradCamOverlay({
  result,
  name,
  classNames,
  withheld = false,
  unavailable,
  children,
}: {
  result: ClassifyResult;
  name: string;
  classNames: string[];
  /** The result's class is withheld (input flagged as out of distribution). */
  withheld?: boolean;
  /** Why no heatmap can be computed (e.g. a result restored after a reload): shown instead of the controls. */
  unavailable?: string;
  children?: ReactNode;
}) {
  const id = useId();
  const predicted = Math.max(0, classNames.indexOf(result.prediction.label));
  // The class picked for this result; a new result starts on its predicted class.
  const [pick, setPick] = useState<{ resultId: number; classIndex: number } | null>(null);
  const classIndex = pick && pick.resultId === result.resultId ? pick.classIndex : predicted;
  const setClassIndex = (c: number) => setPick({ resultId: result.resultId, classIndex: c });
  const [prefs, setPrefs] = useGradCamPrefs();
  const state = useGradCam(result.resultId, classIndex, prefs.enabled && !unavailable);
  const ready = state.status === 'ready' && state.payload.classIndex === classIndex && state.payload.resultId === result.resultId ? state.payload : null;
  const className = classNames[classIndex] ?? `class ${classIndex}`;
  const size = result.thumbnail.size;
  const showOriginal = prefs.enabled && prefs.view === 'original' && ready !== null;

  if (unavailable) {
    return (
      <div className="cam" data-testid="gradcam" data-status="unavailable">
        <figure className="result-card__figure">
          <div className="thumb-stack">
            <Thumbnail
              gray={result.thumbnail.gray}
              size={size}
              display={INPUT_DISPLAY}
              label={`What the model saw: ${name}, ${size}×${size} pixels after preprocessing`}
            />
            {children}
          </div>
          <figcaption className="muted">
            Model input ({size}×{size})
          </figcaption>
        </figure>
        <p className="muted cam__note" data-testid="gradcam-unavailable">
          {unavailable}
        </p>
      </div>
    );
  }

  return (
    <div
      className="cam"
      data-testid="gradcam"
      data-status={state.status}
      data-class={ready ? classNames[ready.classIndex] : ''}
      data-raw-max={ready ? ready.rawMax : ''}
    >
      <figure className="result-card__figure">
        {showOriginal ? (
          <OriginalHeatmap
            payload={ready}
            opacity={prefs.opacity}
            className={className}
            label={`${name}: whole image (${result.width}×${result.height}) with the Grad-CAM heatmap for ${className} over the centred square the model saw; the dimmed border was not seen`}
          />
        ) : (
          <div className="thumb-stack">
            <Thumbnail
              gray={result.thumbnail.gray}
              size={size}
              display={INPUT_DISPLAY}
              label={
                ready && prefs.enabled
                  ? `What the model saw: ${name}, ${size}×${size} pixels, with the Grad-CAM heatmap for ${className}`
                  : `What the model saw: ${name}, ${size}×${size} pixels after preprocessing`
              }
            />
            {ready && prefs.enabled && <InputHeatmap payload={ready} opacity={prefs.opacity} className={className} />}
            {children}
          </div>
        )}
        <figcaption className="muted">
          {showOriginal ? `Whole image, ${result.width}×${result.height}` : `Model input (${size}×${size})`}
          {ready && prefs.enabled ? `, heatmap: ${className}` : ''}
        </figcaption>
      </figure>

      <fieldset className="cam__controls">
        <legend>
          Grad-CAM heatmap <Explain term="gradcam" />
        </legend>
        <label className="cam__toggle">
          <input type="checkbox" checked={prefs.enabled} onChange={(e) => setPrefs({ enabled: e.currentTarget.checked })} data-testid="gradcam-toggle" /> Show
          where the network looked
        </label>
        {prefs.enabled && (
          <>
            <div className="cam__field">
              <label htmlFor={`${id}-class`}>Explain class</label>
              <select id={`${id}-class`} value={classIndex} onChange={(e) => setClassIndex(Number(e.currentTarget.value))} data-testid="gradcam-class">
                {classNames.map((c, i) => (
                  <option key={c} value={i}>
                    {c}
                    {i === predicted ? (withheld ? ' (top class, withheld)' : ' (predicted)') : ''}
                  </option>
                ))}
              </select>
            </div>
            <div className="cam__field">
              <label htmlFor={`${id}-opacity`}>
                Opacity <span data-testid="gradcam-opacity-value">{Math.round(prefs.opacity * 100)}%</span>
              </label>
              <input
                id={`${id}-opacity`}
                type="range"
                min={0}
                max={1}
                step={0.05}
                value={prefs.opacity}
                aria-valuetext={`${Math.round(prefs.opacity * 100)}%`}
                onChange={(e) => setPrefs({ opacity: Number(e.currentTarget.value) })}
                data-testid="gradcam-opacity"
              />
            </div>
            <fieldset className="cam__field cam__view">
              <legend>Draw over</legend>
              <label>
                <input
                  type="radio"
                  name={`${id}-view`}
                  checked={prefs.view === 'input'}
                  onChange={() => setPrefs({ view: 'input' })}
                  data-testid="gradcam-view-input"
                />{' '}
                model input
              </label>
              <label>
                <input
                  type="radio"
                  name={`${id}-view`}
                  checked={prefs.view === 'original'}
                  onChange={() => setPrefs({ view: 'original' })}
                  data-testid="gradcam-view-original"
                />{' '}
                whole image
              </label>
            </fieldset>
            <div className="cam__legend" data-testid="gradcam-legend">
              <span
                className="cam__bar"
                style={{ background: LEGEND }}
                role="img"
                aria-label="Colour scale: dark blue for low, through green and yellow, to dark red for high contribution"
              />
              <span className="cam__ends" aria-hidden="true">
                <span>low</span>
                <span>high</span>
              </span>
            </div>
            <p className="muted cam__status" aria-live="polite" data-testid="gradcam-status">
              {statusText(state, classNames)}
            </p>
            <p className="muted cam__note">
              Colours rank regions of this image by how much they raised the {className} score, relative to its strongest region. A heatmap on the lungs does
              not prove the model reasons like a radiologist; one on text, borders or devices is a warning sign.
              {withheld ? ' This input was flagged as possibly not a chest X-ray.' : ''}
            </p>
          </>
        )}
      </fieldset>
    </div>
  );
});
