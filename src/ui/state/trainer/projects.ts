import { TrainClient } from '../../../worker/train-client';
import type { MemorySample, TrainItem } from '../../../worker/train-protocol';
import { ClassEntry, ImageEntry, TrainSettings, RunState, idleRun, trainerStore, set } from './store';
import { nextIds } from './store';
import { client, getClient } from './worker';
import { sendImages } from './dataset';

export function trainerClient(): TrainClient {
  return getClient();
}

/** Fresh image ids and class keys, e.g. for a restored project. */
export function allocateIds(images: number, classes: number): { imageIds: number[]; classKeys: number[] } {
  return { imageIds: Array.from({ length: images }, () => nextIds.nextImageId++), classKeys: Array.from({ length: classes }, () => nextIds.nextClassKey++) };
}

/** Replaces the whole data set, settings and run at once; the worker gets the images (prepared ones are not decoded again). */
export function replaceProject(next: { classes: ClassEntry[]; images: ImageEntry[]; items: TrainItem[]; settings: TrainSettings; run: RunState | null }): void {
  const old = trainerStore.get().images.map((im) => im.id);
  if (old.length && client) void client.remove(old);
  set((s) => ({
    ...s,
    classes: next.classes,
    images: next.images,
    rejected: [],
    settings: next.settings,
    run: next.run ?? { ...idleRun, runId: s.run.runId + 1 },
    previews: [],
    embed: { stats: s.embed.stats, startedAt: null, doneAt: null },
  }));
  sendImages(next.items);
}

export function dismissMessage(): void {
  set((s) => ({ ...s, message: null }));
}

export function trainerMemory(): Promise<MemorySample> {
  return getClient().memory();
}
