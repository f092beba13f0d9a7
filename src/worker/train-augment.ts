// The augmentation the Train page's last-block stage trains with, in one place: the training worker
// and the augmentation preview (./lessons.ts) both draw from it, so the preview shows what training does.
import { DEFAULT_AUGMENT, type AugmentConfig } from '../image/augment';

export const TRAIN_AUGMENT: AugmentConfig = DEFAULT_AUGMENT;
