// The three diagnostic classes of CXR Lab. The order is the model's output order, so it must never
// change without retraining (class index i of every probability vector is CXR_CLASSES[i]).
export const CXR_CLASSES = ['covid', 'normal', 'pneumonia'] as const;

export type CxrClass = (typeof CXR_CLASSES)[number];

/** The class the covid operating point, the covid screen and the reports single out. */
export const COVID_CLASS: CxrClass = CXR_CLASSES[0];

export const N_CXR_CLASSES = CXR_CLASSES.length;

export function isCxrClass(value: unknown): value is CxrClass {
  return typeof value === 'string' && (CXR_CLASSES as readonly string[]).includes(value);
}

/** Index of a class in the model output; -1 when `value` is not a class name. */
export function cxrClassIndex(value: string): number {
  return (CXR_CLASSES as readonly string[]).indexOf(value);
}
