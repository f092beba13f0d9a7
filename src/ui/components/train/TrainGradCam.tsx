// Grad-CAM of the fine-tuned model for one image of the misclassified gallery: the training worker
// computes the map (src/ml/gradcam.ts) for the predicted class first or any class picked; the one
// Grad-CAM view (components/GradCamView) draws it, always on, over the model input.
import { useEffect, useState } from 'react';
import type { GradCamReply } from '../../../worker/train-protocol';
import type { GradCamPrefs } from '../../state/gradcam';
import { GradCamView, type HeatmapState } from '../GradCamView';
import { pct } from './evaluation';

const DISPLAY = 320;

export interface TrainGradCamProps {
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

export function TrainGradCam({ imageId, path, classNames, initialClass, load, placeholder }: TrainGradCamProps) {
  const [classIndex, setClassIndex] = useState(initialClass);
  const [prefs, setPrefs] = useState<GradCamPrefs>({ enabled: true, opacity: 0.5, view: 'input' });
  const [reply, setReply] = useState<GradCamReply | null>(null);
  const [state, setState] = useState<HeatmapState>({ status: 'loading' });
  useEffect(() => {
    let alive = true;
    setState({ status: 'loading' });
    load(imageId, classIndex).then(
      (r) => {
        if (!alive) return;
        setReply(r);
        setState({ status: 'ready', payload: { ...r, inputSize: r.size } });
      },
      (e: Error) => alive && setState({ status: 'error', message: e.message }),
    );
    return () => {
      alive = false;
    };
  }, [imageId, classIndex, load]);
  const className = classNames[classIndex] ?? `class ${classIndex}`;
  const input = reply ?? placeholder;
  if (!input) return <span className="tr-tile__blank" style={{ width: DISPLAY, height: DISPLAY }} data-testid="gradcam" data-status="loading" />;
  return (
    <GradCamView
      input={{ gray: input.gray, size: input.size }}
      name={path}
      classNames={classNames}
      predicted={initialClass}
      predictedNote=" (predicted)"
      classIndex={classIndex}
      onClassIndex={setClassIndex}
      state={state}
      prefs={prefs}
      onPrefs={(patch) => setPrefs((p) => ({ ...p, ...patch }))}
      toggle={false}
      display={DISPLAY}
      note={<>Grad-CAM: where the fine-tuned network found evidence for {className} (relative to this image&apos;s strongest evidence).</>}
      footer={
        reply && (
          <p className="muted">
            The model&apos;s answer for this image: {classNames[reply.predictedIndex]} {pct(reply.probabilities[reply.predictedIndex], 1)}.
          </p>
        )
      }
    />
  );
}
