// The one Grad-CAM view (Classify's result cards, Evaluate's gallery, Train's misclassified images):
// a model input with the heatmap of a class (the predicted one first, or any class picked here),
// upsampled and drawn over the image the model saw, or — where the original's geometry is known —
// projected over the whole original image (the model only saw a centred crop; the rest is dimmed).
// Opacity slider, colour legend, status, keyboard-accessible controls. It only draws: the callers
// (GradCamOverlay for the inference worker, train/TrainGradCam for the training worker) fetch the
// maps. Drawing uses the pure helpers of src/image/heatmap (no tfjs on the page).
import { Explain } from './Explain';
import { useEffect, useId, useRef, type ReactNode } from 'react';
import type { GradCamPayload } from '../../worker/protocol';
import { colorizeHeatmap, heatmapLegendGradient, projectHeatmap, upsampleHeatmap } from '../../image/heatmap';
import type { GradCamPrefs } from '../state/gradcam';
import { Thumbnail } from './Thumbnail';

/** A computed map, whichever worker made it. `original`, `layer` and `ms` when the worker knows them. */
export interface HeatmapShown {
  classIndex: number;
  heatmap: Float32Array;
  width: number;
  height: number;
  rawMax: number;
  inputSize: number;
  original?: GradCamPayload['original'];
  layer?: string;
  ms?: number;
}

export type HeatmapState = { status: 'off' } | { status: 'loading' } | { status: 'error'; message: string } | { status: 'ready'; payload: HeatmapShown };

const ORIGINAL_BOX = 320;
const LEGEND = heatmapLegendGradient(10);
/** Share of brightness kept outside the crop the model saw, in the whole-image view. */
const OUTSIDE_DIM = 0.45;

/** The heatmap alone, at the model input's resolution, for stacking over the thumbnail. */
function InputHeatmap({ payload, opacity, className, display }: { payload: HeatmapShown; opacity: number; className: string; display: number }) {
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
      style={{ width: display, height: display }}
      aria-hidden="true"
      data-testid="gradcam-overlay"
      data-class={className}
      data-opacity={opacity}
    />
  );
}

/** The original image (downscaled preview) with the heatmap projected over the part the model saw. */
function OriginalHeatmap({
  payload,
  original,
  opacity,
  label,
  className,
}: {
  payload: HeatmapShown;
  original: NonNullable<HeatmapShown['original']>;
  opacity: number;
  label: string;
  className: string;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  const { preview } = original;
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const { width: w, height: h, gray } = preview;
    const values = projectHeatmap(payload.heatmap, payload.width, payload.height, original, original.crop, w, h);
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
  }, [payload, original, opacity, preview]);
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

function statusText(state: HeatmapState, classNames: string[]): ReactNode {
  if (state.status === 'loading') return 'Computing the heatmap…';
  if (state.status === 'error') return <span className="error-text">No heatmap: {state.message}</span>;
  if (state.status !== 'ready') return null;
  const p = state.payload;
  const name = classNames[p.classIndex] ?? `class ${p.classIndex}`;
  if (p.rawMax === 0) return <span data-testid="gradcam-empty">No region of this image adds evidence for {name}: the map is empty.</span>;
  return (
    <>
      Grad-CAM for <strong>{name}</strong>
      {p.layer ? (
        <>
          {' '}
          on layer <code>{p.layer}</code>
        </>
      ) : null}{' '}
      ({p.width}×{p.height} cells, upsampled){p.ms !== undefined ? `, ${p.ms.toFixed(0)} ms` : ''}.
    </>
  );
}

export interface GradCamViewProps {
  /** The model input as 8-bit gray (size × size), and its file name for labels. */
  input: { gray: Uint8Array; size: number };
  name: string;
  classNames: string[];
  /** Class the model predicts, and how the picker marks it (e.g. " (predicted)"). */
  predicted: number;
  predictedNote: string;
  /** Class whose map is asked for, and a new pick. */
  classIndex: number;
  onClassIndex: (classIndex: number) => void;
  state: HeatmapState;
  prefs: GradCamPrefs;
  onPrefs: (patch: Partial<GradCamPrefs>) => void;
  /** Offer the on/off switch (Classify: off by default); without it the map is always shown. */
  toggle: boolean;
  /** Decoded size of the original image, for the whole-image view (absent: only the model input). */
  imageSize?: { width: number; height: number };
  /** Displayed side of the model input, in CSS pixels. */
  display: number;
  /** What a coloured region means for this model, under the legend. */
  note: ReactNode;
  /** Why no heatmap can be computed (e.g. a result restored after a reload): shown instead of the controls. */
  unavailable?: string;
  /** Stacked over the thumbnail (e.g. other overlays). */
  children?: ReactNode;
  /** After the controls (e.g. the model's answer for this image). */
  footer?: ReactNode;
}

export function GradCamView({
  input,
  name,
  classNames,
  predicted,
  predictedNote,
  classIndex,
  onClassIndex: setClassIndex,
  state,
  prefs,
  onPrefs: setPrefs,
  toggle,
  imageSize,
  display,
  note,
  unavailable,
  children,
  footer,
}: GradCamViewProps) {
  const id = useId();
  const ready = state.status === 'ready' && state.payload.classIndex === classIndex ? state.payload : null;
  const className = classNames[classIndex] ?? `class ${classIndex}`;
  const size = input.size;
  const enabled = prefs.enabled || !toggle;
  const original = ready?.original && imageSize ? ready.original : null;
  const showOriginal = enabled && prefs.view === 'original' && original !== null;

  if (unavailable) {
    return (
      <div className="cam" data-testid="gradcam" data-status="unavailable">
        <figure className="result-card__figure">
          <div className="thumb-stack">
            <Thumbnail gray={input.gray} size={size} display={display} label={`What the model saw: ${name}, ${size}×${size} pixels after preprocessing`} />
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
        {showOriginal && ready && imageSize ? (
          <OriginalHeatmap
            payload={ready}
            original={original}
            opacity={prefs.opacity}
            className={className}
            label={`${name}: whole image (${imageSize.width}×${imageSize.height}) with the Grad-CAM heatmap for ${className} over the centred square the model saw; the dimmed border was not seen`}
          />
        ) : (
          <div className="thumb-stack">
            <Thumbnail
              gray={input.gray}
              size={size}
              display={display}
              label={
                ready && enabled
                  ? `What the model saw: ${name}, ${size}×${size} pixels, with the Grad-CAM heatmap for ${className}`
                  : `What the model saw: ${name}, ${size}×${size} pixels after preprocessing`
              }
            />
            {ready && enabled && <InputHeatmap payload={ready} opacity={prefs.opacity} className={className} display={display} />}
            {children}
          </div>
        )}
        <figcaption className="muted">
          {showOriginal && imageSize ? `Whole image, ${imageSize.width}×${imageSize.height}` : `Model input (${size}×${size})`}
          {ready && enabled ? `, heatmap: ${className}` : ''}
        </figcaption>
      </figure>

      <fieldset className="cam__controls">
        <legend>
          Grad-CAM heatmap <Explain term="gradcam" />
        </legend>
        {toggle && (
          <label className="cam__toggle">
            <input type="checkbox" checked={prefs.enabled} onChange={(e) => setPrefs({ enabled: e.currentTarget.checked })} data-testid="gradcam-toggle" /> Show
            where the network looked
          </label>
        )}
        {enabled && (
          <>
            <div className="cam__field">
              <label htmlFor={`${id}-class`}>Explain class</label>
              <select id={`${id}-class`} value={classIndex} onChange={(e) => setClassIndex(Number(e.currentTarget.value))} data-testid="gradcam-class">
                {classNames.map((c, i) => (
                  <option key={c} value={i}>
                    {c}
                    {i === predicted ? predictedNote : ''}
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
            {imageSize && (
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
            )}
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
            <p className="muted cam__note">{note}</p>
          </>
        )}
      </fieldset>
      {footer}
    </div>
  );
}
