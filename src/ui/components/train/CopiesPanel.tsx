// The Train page's copies and leakage panel: sets of exact and near copies among the teacher's images
// (the same files dropped twice, as a folder and as a zip, or the same X-ray re-encoded), with the
// choice to keep each set on one side of the split or to drop the extra copies; sets filed under
// different classes, which the teacher resolves; and the images the shipped base network was trained
// on, which make validation look better than it is. Renders state only (useTrainer, state/trainer/copies.ts).
import { useMemo } from 'react';
import { THUMB_SIZE } from '../../../worker/train-protocol';
import { planSplit, removeImages, updateSettings, type ImageEntry, type TrainerState } from '../../state/trainer';
import { copiesOf, type CopySet } from '../../state/trainer/copies';
import { Explain } from '../Explain';
import { GrayThumb } from './GrayThumb';

/** Sets shown in full; the rest are counted. */
const SHOWN_SETS = 30;
/** Removed copies listed by name; the rest are counted. */
const SHOWN_REMOVED = 60;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function CopySetItem({
  set,
  byId,
  classNames,
  classIndex,
  locked,
}: {
  set: CopySet;
  byId: Map<number, ImageEntry>;
  classNames: string[];
  classIndex: Map<number, number>;
  locked: boolean;
}) {
  const members = set.ids.map((id) => byId.get(id)).filter((im): im is ImageEntry => im !== undefined);
  const classOf = (im: ImageEntry) => classIndex.get(im.classKey) ?? -1;
  return (
    <li
      className={`tr-copyset${set.conflict ? ' tr-copyset--conflict' : ''}`}
      data-testid="copy-set"
      data-kind={set.kind}
      data-conflict={set.conflict}
      data-size={set.ids.length}
      data-ids={set.ids.join(' ')}
    >
      <p className="tr-copyset__head">
        <strong>{set.kind === 'exact' ? 'Exact copies' : 'Near copies'}</strong>{' '}
        <span className="muted">({set.kind === 'exact' ? 'the same file bytes' : 'the same picture, re-encoded or resized'})</span>
      </p>
      <ul className="tr-copyset__items">
        {members.map((im) => (
          <li key={im.id} className="tr-copyset__item" data-testid="copy-item" data-path={im.path} data-extra={set.extra.includes(im.id)}>
            {im.thumb && <GrayThumb gray={im.thumb} size={THUMB_SIZE} display={48} label={im.path} />}
            <span>
              <code>{im.path}</code>
              <br />
              <span className="muted">
                in {classNames[classOf(im)] || '?'}
                {set.extra.includes(im.id) ? ' · extra copy' : ''}
              </span>
            </span>
          </li>
        ))}
      </ul>
      {set.conflict && (
        <div className="tr-copyset__conflict" data-testid="copy-conflict">
          <p>
            Filed under different classes ({set.classes.map((c) => classNames[c] || '?').join(', ')}): the network would be taught that the same picture is
            both. Which class is right?
          </p>
          <div className="tr-buttons">
            {set.classes.map((c) => (
              <button
                key={c}
                type="button"
                disabled={locked}
                data-testid="copy-resolve"
                onClick={() => removeImages(members.filter((im) => classOf(im) !== c).map((im) => im.id))}
              >
                Keep it only in {classNames[c] || '?'}
              </button>
            ))}
          </div>
        </div>
      )}
    </li>
  );
}

export function CopiesPanel({ state }: { state: TrainerState }) {
  const { settings } = state;
  const locked = state.run.status === 'training' || state.run.status === 'stopping';
  const { classes, images } = state;
  const view = useMemo(() => copiesOf({ classes, images }), [classes, images]);
  const plan = useMemo(() => planSplit({ classes, images, settings }), [classes, images, settings]);
  const byId = useMemo(() => new Map(state.images.map((im) => [im.id, im])), [state.images]);
  const classIndex = useMemo(() => new Map(state.classes.map((c, i) => [c.key, i])), [state.classes]);
  const classNames = state.classes.map((c) => c.name.trim());
  const baseTrained = view.ready.filter((im) => im.baseTrained).length;
  const { baseHashes } = state;
  const conflicts = view.sets.filter((s) => s.conflict).length;
  const removing = settings.duplicates === 'remove';
  const removed = removing ? view.sets.flatMap((s) => s.extra) : [];

  if (!view.sets.length && !baseTrained && baseHashes.status !== 'error') return null;

  return (
    <section className="panel" aria-labelledby="tr-copies-title" data-testid="copies-panel">
      <h2 id="tr-copies-title" className="panel__title">
        Copies and leakage <Explain term="leakage" />
      </h2>

      {view.sets.length > 0 && (
        <div className="tr-copies" data-testid="copies" data-sets={view.sets.length} data-images={view.inSets} data-conflicts={conflicts}>
          <p className="tr-check tr-check--warn" data-testid="copies-summary">
            {plural(view.sets.length, 'set')} of copies ({plural(view.inSets, 'image')}). A copy in training makes the same picture in validation look easy, so
            they must not straddle the split.
            {conflicts > 0 && ` ${plural(conflicts, 'set is', 'sets are')} filed under different classes: decide which class is right below.`}
          </p>
          <fieldset className="tr-copies__choice" disabled={locked}>
            <legend>What to do with the copies</legend>
            <label className="tr-field--check">
              <input
                type="radio"
                name="tr-copies"
                checked={!removing}
                onChange={() => updateSettings({ duplicates: 'together' })}
                data-testid="copies-together"
              />
              Keep copies together on one side of the split
            </label>
            <label className="tr-field--check">
              <input type="radio" name="tr-copies" checked={removing} onChange={() => updateSettings({ duplicates: 'remove' })} data-testid="copies-remove" />
              Remove the extra copies (one of each set is kept{conflicts > 0 ? ', one per class in a conflicting set' : ''})
            </label>
          </fieldset>
          {removing && (
            <details className="tr-copies__removed" data-testid="copies-removed" data-count={removed.length}>
              <summary>
                {plural(removed.length, 'extra copy', 'extra copies')} left out of training and validation (choose "Keep copies together" to bring them back)
              </summary>
              <ul>
                {removed.slice(0, SHOWN_REMOVED).map((id) => (
                  <li key={id} data-testid="copies-removed-item">
                    <code>{byId.get(id)?.path ?? `image ${id}`}</code>
                  </li>
                ))}
                {removed.length > SHOWN_REMOVED && <li>… and {removed.length - SHOWN_REMOVED} more</li>}
              </ul>
            </details>
          )}
          <details className="tr-copies__sets" open={view.sets.length <= 5 || conflicts > 0}>
            <summary>Show the sets</summary>
            <ul className="tr-copysets">
              {[...view.sets]
                .sort((a, b) => Number(b.conflict) - Number(a.conflict))
                .slice(0, SHOWN_SETS)
                .map((s) => (
                  <CopySetItem key={s.ids[0]} set={s} byId={byId} classNames={classNames} classIndex={classIndex} locked={locked} />
                ))}
            </ul>
            {view.sets.length > SHOWN_SETS && <p className="muted">… and {plural(view.sets.length - SHOWN_SETS, 'more set')}.</p>}
          </details>
        </div>
      )}

      {baseTrained > 0 && (
        <div className="tr-leakage" data-testid="leakage" data-count={baseTrained} data-val={plan.copies.baseTrainedVal}>
          <p className="tr-check tr-check--warn" data-testid="leakage-summary">
            {plural(baseTrained, 'of your images', 'of your images')} ({plan.copies.baseTrainedVal} in validation) {baseTrained === 1 ? 'was' : 'were'} used to
            train the base network; validation on them will look better than it is. The network has seen these very pictures, so it recognises them rather than
            having to generalise.
          </p>
          <div className="tr-field tr-field--check">
            <input
              id="tr-exclude-base"
              type="checkbox"
              checked={settings.excludeBaseTrainedFromVal}
              disabled={locked}
              onChange={(e) => updateSettings({ excludeBaseTrainedFromVal: e.currentTarget.checked })}
              data-testid="exclude-base-trained"
            />
            <label htmlFor="tr-exclude-base">Keep them out of validation (they may still be used for training)</label>
          </div>
        </div>
      )}

      {baseHashes.status === 'error' && (
        <p className="tr-check tr-check--warn" data-testid="leakage-error">
          Could not check which images the base network was trained on: {baseHashes.error}. Training works; validation may include such images unnoticed.
        </p>
      )}
    </section>
  );
}
