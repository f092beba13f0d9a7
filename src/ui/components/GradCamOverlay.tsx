// Grad-CAM of a Classify (or Evaluate) result: the inference worker computes the map on the model's
// last conv layer (metadata.layers.lastConv) for the picked class (useGradCam, cached); the one
// Grad-CAM view draws it. The user's display choices (on/off, opacity, what to draw over) are shared
// by every result card and outlive it.
import { memo, useState, type ReactNode } from 'react';
import type { ClassifyResult } from '../../worker/protocol';
import { useGradCam, useGradCamPrefs } from '../hooks/useGradCam';
import { GradCamView, type HeatmapState } from './GradCamView';

const INPUT_DISPLAY = 192;

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
  const predicted = Math.max(0, classNames.indexOf(result.prediction.label));
  // The class picked for this result; a new result starts on its predicted class.
  const [pick, setPick] = useState<{ resultId: number; classIndex: number } | null>(null);
  const classIndex = pick && pick.resultId === result.resultId ? pick.classIndex : predicted;
  const [prefs, setPrefs] = useGradCamPrefs();
  const cam = useGradCam(result.resultId, classIndex, prefs.enabled && !unavailable);
  const state: HeatmapState =
    cam.status === 'ready'
      ? cam.payload.resultId === result.resultId
        ? { status: 'ready', payload: cam.payload }
        : { status: 'loading' }
      : cam.status === 'error'
        ? { status: 'error', message: cam.message }
        : cam.status === 'loading'
          ? { status: 'loading' }
          : { status: 'off' };
  const className = classNames[classIndex] ?? `class ${classIndex}`;
  return (
    <GradCamView
      input={result.thumbnail}
      name={name}
      classNames={classNames}
      predicted={predicted}
      predictedNote={withheld ? ' (top class, withheld)' : ' (predicted)'}
      classIndex={classIndex}
      onClassIndex={(c) => setPick({ resultId: result.resultId, classIndex: c })}
      state={state}
      prefs={prefs}
      onPrefs={setPrefs}
      toggle
      imageSize={{ width: result.width, height: result.height }}
      display={INPUT_DISPLAY}
      unavailable={unavailable}
      note={
        <>
          Colours rank regions of this image by how much they raised the {className} score, relative to its strongest region. A heatmap on the lungs does not
          prove the model reasons like a radiologist; one on text, borders or devices is a warning sign.
          {withheld ? ' This input was flagged as possibly not a chest X-ray.' : ''}
        </>
      }
    >
      {children}
    </GradCamView>
  );
});
