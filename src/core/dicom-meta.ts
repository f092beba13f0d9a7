// What CXR Lab takes from a DICOM header besides the pixels, and what it does with it. Pure TS: the
// decoder (src/image/dicom.ts, a chunk loaded only for DICOM input) fills DicomMeta and applies the rules
// below; the Classifier adds its headerReasons to the "Not a chest X-ray?" verdict; the worker and
// `npm run predict` attach it to results; the CSV exports it and the Evaluate page can group by it.
//
// Identifying fields — Patient's Name (0010,0010), Patient ID (0010,0020), Birth Date (0010,0030),
// Accession Number (0008,0050), and anything else not listed here — are never read, so they cannot
// be shown, stored or exported. Patient age and sex are kept: they are what a reader needs to judge
// whether the model applies (tests/unit/dicom-codecs.test.ts, dicom-header.test.ts and
// tests/browser/dicom.test.ts check that the others never appear).

export interface DicomMeta {
  /** Modality (0008,0060), e.g. DX, CR. */
  modality?: string;
  /** View Position (0018,5101), e.g. PA, AP, LL. */
  viewPosition?: string;
  /** Patient Orientation (0020,0020): row and column directions, e.g. ["L", "F"]. */
  patientOrientation?: string[];
  /** Body Part Examined (0018,0015), e.g. CHEST. */
  bodyPart?: string;
  /** Patient's Age (0010,1010) as written (AS: "045Y", "006M", "010W", "003D"). */
  patientAge?: string;
  /** The same in years (fractional below one year); absent when the field is missing or malformed. */
  ageYears?: number;
  /** Patient's Sex (0010,0040): M, F or O. */
  patientSex?: string;
  /** Manufacturer (0008,0070). */
  manufacturer?: string;
  /** Manufacturer's Model Name (0008,1090). */
  manufacturerModel?: string;
  /** Transfer syntax UID and its name. */
  transferSyntax: string;
  transferSyntaxName: string;
  photometric: string;
  bitsStored: number;
  numberOfFrames: number;
  /** How grey levels were chosen, in words (e.g. "window C 40 W 400 from the header, first of 2"). */
  windowDescription?: string;
  /** Things the reader should know about this file (pediatric film, first frame of several, window choice…). */
  notes: string[];
  /**
   * Reasons, from the header, that this is not a frontal chest radiograph (headerReasons): they join
   * the "Not a chest X-ray?" verdict (Classifier.predict's `dicom` option). Empty when none.
   */
  headerReasons: string[];
}

/** Patient's Age (AS, "nnnD/W/M/Y") in years, or undefined when malformed. */
export function ageInYears(as: string | undefined): number | undefined {
  const m = /^\s*(\d{1,3})\s*([DWMY])\s*$/i.exec(as ?? '');
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2].toUpperCase();
  return unit === 'Y' ? n : unit === 'M' ? n / 12 : unit === 'W' ? (n * 7) / 365.25 : n / 365.25;
}

/** Below this age (years) a film counts as pediatric. */
export const PEDIATRIC_BELOW_YEARS = 18;

const LATERAL_VIEWS = new Set(['LL', 'RL', 'LAT', 'LATERAL', 'XTABLE LATERAL', 'LLD LATERAL', 'RLD LATERAL', 'LATERAL DECUBITUS']);
/** Body parts that are (or contain) a chest film: English and the common European spellings PACS use. */
const CHEST_BODY_PART = /CHEST|THORA|TORAX|TÓRAX|TORACE|BRUST|POITRINE|PECHO|LUNG|RIB|STERN/;
/** Values that say nothing about the body part. */
const UNINFORMATIVE_BODY_PART = new Set(['', 'UNKNOWN', 'OTHER', 'NONE', 'NA', 'N/A', 'UNK']);
/** Modalities that are not projection radiographs of any kind. */
const NON_RADIOGRAPH_MODALITIES: Record<string, string> = {
  CT: 'CT',
  MR: 'MRI',
  US: 'ultrasound',
  NM: 'nuclear medicine',
  PT: 'PET',
  MG: 'mammography',
  XA: 'angiography',
  IO: 'intra-oral radiography',
  PX: 'panoramic dental radiography',
  OP: 'ophthalmic photography',
  ES: 'endoscopy',
  SM: 'slide microscopy',
  ECG: 'ECG',
};

/** True when the header says the film is a lateral view (View Position, else Patient Orientation). */
export function isLateral(meta: Pick<DicomMeta, 'viewPosition' | 'patientOrientation'>): boolean {
  const view = meta.viewPosition?.trim().toUpperCase();
  if (view) return LATERAL_VIEWS.has(view);
  // Patient Orientation gives the patient direction of the rows (left→right on screen) first: L or R
  // on a frontal film, A or P on a lateral one.
  const row = meta.patientOrientation?.[0]?.trim().toUpperCase();
  return !!row && /^[AP][HF]?$/.test(row);
}

/**
 * Reasons, from the header alone, that a file is not the frontal chest radiograph the model was made
 * for (empty when the header is silent or agrees). They join the "Not a chest X-ray?" verdict.
 */
export function headerReasons(meta: Omit<DicomMeta, 'headerReasons'> | undefined): string[] {
  if (!meta) return [];
  const reasons: string[] = [];
  if (isLateral(meta)) {
    const from = meta.viewPosition ? `View Position ${meta.viewPosition}` : `Patient Orientation ${meta.patientOrientation!.join('\\')}`;
    reasons.push(`lateral view (DICOM ${from}); the model reads frontal films only`);
  }
  const part = meta.bodyPart?.trim().toUpperCase();
  if (part && !UNINFORMATIVE_BODY_PART.has(part) && !CHEST_BODY_PART.test(part))
    reasons.push(`body part examined is ${meta.bodyPart} (DICOM header), not chest`);
  const modality = meta.modality?.trim().toUpperCase();
  if (modality && NON_RADIOGRAPH_MODALITIES[modality]) reasons.push(`modality ${modality} (${NON_RADIOGRAPH_MODALITIES[modality]}) is not a chest radiograph`);
  return reasons;
}

/** The warning for a pediatric film, or null (adult, or age unknown). */
export function pediatricWarning(meta: Pick<DicomMeta, 'ageYears'> | undefined): string | null {
  const age = meta?.ageYears;
  if (age === undefined || !(age < PEDIATRIC_BELOW_YEARS)) return null;
  const shown = age >= 2 ? `${Math.floor(age)} years` : age >= 1 / 12 ? `${Math.floor(age * 12)} months` : `${Math.max(0, Math.floor(age * 365.25))} days`;
  return `pediatric patient (age ${shown}, DICOM header): the model was trained mostly on adult films, so its output on children is less reliable`;
}

/** A grouping key for per-site analyses: manufacturer and model as written ("unknown" when absent). */
export function siteKey(meta: DicomMeta | undefined): string {
  const parts = [meta?.manufacturer, meta?.manufacturerModel].filter((s): s is string => !!s && s.trim() !== '');
  return parts.length ? parts.join(' ') : 'unknown';
}
