// One plain-language explanation per figure the app shows (Train, Classify, Evaluate, Model card),
// opened by the Explain button next to each number or chart heading. Short, correct, and written
// for someone who has never trained a model. Every entry is used somewhere (tests/unit/glossary.test.ts).

export interface GlossaryEntry {
  /** The term as a heading ("Sensitivity"). */
  term: string;
  /** One to three sentences. */
  text: string;
}

export const GLOSSARY = {
  accuracy: {
    term: 'Accuracy',
    text: 'The share of images whose most likely class is the true class. It hides which classes are confused, and with a lopsided data set a model can score high by always giving the common answer.',
  },
  balancedAccuracy: {
    term: 'Balanced accuracy',
    text: 'The mean of the per-class sensitivities, so a large class cannot hide a neglected small one.',
  },
  majority: {
    term: 'Majority-class baseline',
    text: 'The accuracy of always answering the most frequent class, without looking at the image. A useful model must beat it clearly.',
  },
  interval: {
    term: '95 % interval',
    text: 'The range that the figure would likely fall in on another sample of images like these. The fewer images, the wider it is: 16 of 16 right is 100 %, but the interval reaches down to 81 %.',
  },
  smallSample: {
    term: 'Small sample',
    text: 'With fewer than 30 images per class, one or two images more or less right move the figure by several points. Read the interval, not the single number, and do not compare two runs on it.',
  },
  support: {
    term: 'Images (support)',
    text: 'How many images of this class the figures in the row are computed on. A row with few images has wide intervals.',
  },
  sensitivity: {
    term: 'Sensitivity (recall)',
    text: 'Of the images that truly are this class, the share the model calls this class. Low sensitivity means missed cases.',
  },
  specificity: {
    term: 'Specificity',
    text: 'Of the images that are not this class, the share the model does not call this class. Low specificity means false alarms.',
  },
  ppv: {
    term: 'PPV (precision)',
    text: 'Of the images the model calls this class, the share that truly are. It depends on how common the class is: the rarer the class, the lower the PPV at the same sensitivity and specificity.',
  },
  npv: {
    term: 'NPV',
    text: 'Of the images the model does not call this class, the share that truly are not.',
  },
  f1: {
    term: 'F1 score',
    text: 'The harmonic mean of sensitivity and PPV: high only when both are high (1 is perfect, 0 is useless).',
  },
  auc: {
    term: 'AUC (area under the ROC curve)',
    text: 'The chance that a random image of this class gets a higher score for it than a random image of another class. 0.5 is guessing, 1 is perfect separation. It says nothing about where the threshold is set.',
  },
  roc: {
    term: 'ROC curve',
    text: 'Sensitivity against false-positive rate (1 − specificity) as the threshold for one class moves from strict to lenient. The closer the curve hugs the top-left corner, the better; the diagonal is guessing.',
  },
  rocSmall: {
    term: 'ROC on a small split',
    text: 'With only a few images per class the curve moves in big steps and the AUC can jump from 0.8 to 1.0 with one image. Treat it as a sketch, not a measurement.',
  },
  calibration: {
    term: 'Calibration',
    text: 'Whether the stated confidence can be taken at its word: of all images given 80 %, about 80 % should be right. The reliability diagram plots stated confidence against observed accuracy; the expected calibration error (ECE) is the average gap (0 is perfect).',
  },
  confusion: {
    term: 'Confusion matrix',
    text: 'A table of true class (rows) against the model’s answer (columns). The diagonal counts the right answers; every other cell shows which class is mistaken for which.',
  },
  loss: {
    term: 'Loss',
    text: 'How wrong the model’s probabilities are, averaged over images (cross-entropy): it drops when the model gets more confident about the right class. Training lowers the loss; lower is better.',
  },
  lossVsAccuracy: {
    term: 'Loss vs accuracy',
    text: 'Accuracy only counts whether the top class is right; loss also counts how sure the model was. Loss can keep falling while accuracy stays flat, and rising validation loss is often the first sign of overfitting.',
  },
  trainVsVal: {
    term: 'Training vs validation',
    text: 'Training figures are measured on the images the model learns from; validation figures on images held back that it never learns from. Only validation tells you how it might do on new images.',
  },
  valBeatsTrain: {
    term: 'Why validation can beat training',
    text: 'During training the model sees its images with dropout (random parts of the network switched off) and augmentation (shifted, rotated, brightened copies), which makes them harder. Validation images are shown plainly with the whole network, so validation can score better, especially early on.',
  },
  epoch: {
    term: 'Epoch',
    text: 'One pass over all training images. After each epoch the curves get a new point and the validation images are scored again.',
  },
  earlyStopping: {
    term: 'Early stopping',
    text: 'Training stops when the validation loss has not improved for a few epochs, and the model from the best epoch is kept (the “kept” line on the charts). It guards against overfitting.',
  },
  overfitting: {
    term: 'Overfitting',
    text: 'The model starts memorising its training images instead of learning what generalises: training loss keeps falling while validation loss rises. More images, augmentation and early stopping help.',
  },
  augmentation: {
    term: 'Augmentation',
    text: 'During training each image is shown slightly changed every time: zoomed, shifted, rotated, flipped, brighter or darker, blurred or noisy, with parts of the border blacked out or fake markers pasted on. The model cannot memorise the exact pixels or lean on a hospital’s border, so it has to learn what stays the same: the lungs. Validation images are never augmented.',
  },
  shortcut: {
    term: 'Shortcut learning',
    text: 'A model can score well for the wrong reason: if one class of images comes from one hospital, its text, markers, borders or framing give the answer away without looking at the lungs. Training on images with the lungs blacked out shows how far the border alone gets: well above chance means the model can learn the hospital, not the disease.',
  },
  covidScreen: {
    term: 'Covid screen (operating point)',
    text: 'A yes/no flag: positive when the covid probability is at or above a threshold chosen on the validation split to catch a target share of covid films (its sensitivity). Lowering the threshold catches more cases and raises more false alarms. A screening flag, not a diagnosis.',
  },
  uncertain: {
    term: 'Uncertain',
    text: 'The top probability is below the model’s threshold, so no class clearly wins. Treat the answer as “don’t know”.',
  },
  ood: {
    term: 'Not a chest X-ray?',
    text: 'Before giving a class the app checks whether the input looks like the frontal chest X-rays the model was trained on. A photo, a drawing or another body part gets no class at all: the model would answer anyway, and its answer would be meaningless.',
  },
  gradcam: {
    term: 'Grad-CAM heatmap',
    text: 'Colours the regions of the image that pushed the model towards the chosen class the most. It shows where the model looked, not why, and heat outside the lungs (labels, borders, tubes) hints at a shortcut.',
  },
  probabilities: {
    term: 'Class probabilities',
    text: 'The model’s scores for each class, adding up to 100 %. A high score is not a guarantee: models are often confidently wrong on images unlike their training data.',
  },
  leakage: {
    term: 'Leakage',
    text: 'When an image used to check a model was, in some form, also used to build it: a copy of a validation image in the training set, or a picture the base network itself learned from. The model has in effect seen the answer, so validation looks better than it will on new patients.',
  },
} satisfies Record<string, GlossaryEntry>;

export type GlossaryTerm = keyof typeof GLOSSARY;

export const GLOSSARY_TERMS = Object.keys(GLOSSARY) as GlossaryTerm[];
