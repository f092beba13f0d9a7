// "What augmentation does": a few training images, each as the model normally sees it and as the
// last-block stage's augmentation draws it (the training worker's own augmentToInput path, with the
// same base, spec and config). Redrawn when augmentation is switched on, the seed or the training set
// changes, and on "New samples".
import { useEffect, useMemo } from 'react';
import { Explain } from '../Explain';
import { GrayThumb } from './GrayThumb';
import { planSplit, type TrainerState } from '../../state/trainer';
import { useLessons } from '../../hooks/useLessons';
import { AUGMENT_PREVIEW_IMAGES, refreshAugmentPreview } from '../../state/lessons';

export function AugmentPreview({ state, enabled, disabled }: { state: TrainerState; enabled: boolean; disabled: boolean }) {
  const { augment } = useLessons();
  const ids = useMemo(
    () => planSplit(state).train.ids.slice(0, AUGMENT_PREVIEW_IMAGES),
    [state.classes, state.images, state.settings.valFraction, state.settings.seed, state.settings.maxTrainPerClass], // eslint-disable-line react-hooks/exhaustive-deps
  );
  const key = ids.join(',');
  const pathOf = useMemo(() => new Map(state.images.map((im) => [im.id, im.path])), [state.images]);
  useEffect(() => {
    if (enabled && key) void refreshAugmentPreview(false);
  }, [enabled, key, state.settings.seed]);

  return (
    <div className="tr-augment" data-testid="augment-preview" data-enabled={enabled} data-status={augment.status} data-seed={augment.seed ?? ''}>
      <h3 className="tr-subtitle">
        What augmentation does <Explain term="augmentation" />
      </h3>
      {!enabled && (
        <p className="muted" data-testid="augment-off">
          Augmentation is off: the head trains on each image exactly as shown in the data set. Switch on the last-block stage above to train on augmented copies
          and see them here.
        </p>
      )}
      {enabled && !key && <p className="muted">Add images to see what augmentation does to them.</p>}
      {enabled && key && (
        <>
          <p className="muted">
            Each epoch the last-block stage sees every training image changed at random like this (the first {ids.length} training image
            {ids.length === 1 ? '' : 's'}: the original, then {augment.images[0]?.variants.length ?? 'a few'} draws).
          </p>
          <button
            type="button"
            onClick={() => void refreshAugmentPreview(true)}
            disabled={disabled || augment.status === 'loading'}
            data-testid="augment-reseed"
          >
            New samples
          </button>
          {augment.status === 'error' && (
            <p role="alert" className="error-text">
              The preview failed: {augment.error}
            </p>
          )}
          <ul className="tr-augment__rows">
            {augment.images
              .filter((im) => pathOf.has(im.imageId))
              .map((im) => {
                const name = pathOf.get(im.imageId)!.split('/').pop();
                return (
                  <li key={im.imageId} className="tr-augment__row" data-testid="augment-row" data-image={im.imageId}>
                    <GrayThumb gray={im.original} size={augment.size} display={80} label={`${name}: original`} testId="augment-original" />
                    {im.variants.map((v, j) => (
                      <GrayThumb
                        key={`${augment.seed}-${j}`}
                        gray={v}
                        size={augment.size}
                        display={80}
                        label={`${name}: augmented copy ${j + 1}`}
                        testId="augment-variant"
                      />
                    ))}
                  </li>
                );
              })}
          </ul>
        </>
      )}
    </div>
  );
}
