// What a DICOM file's header said and how its grey levels were chosen, shown on the result card:
// notes first (a pediatric film, a multi-frame file, several windows), then the header facts CXR Lab
// uses. Identifying fields are not in the result at all (src/core/dicom-meta.ts), so none can show.
import { Fragment } from 'react';
import type { ClassifyResult } from '../../worker/protocol';

export function DicomFacts({ result }: { result: ClassifyResult }) {
  const d = result.dicom;
  if (!d) return null;
  const notes = d.notes;
  const view = d.viewPosition ?? (d.patientOrientation ? `orientation ${d.patientOrientation.join('\\')}` : undefined);
  const facts: [string, string | undefined][] = [
    ['View', view],
    ['Body part', d.bodyPart],
    [
      'Patient age',
      d.patientAge
        ? `${d.patientAge}${d.ageYears !== undefined ? ` (${d.ageYears >= 2 ? `${Math.floor(d.ageYears)} years` : `${Math.round(d.ageYears * 12)} months`})` : ''}`
        : undefined,
    ],
    ['Patient sex', d.patientSex],
    ['Modality', d.modality],
    ['Manufacturer', [d.manufacturer, d.manufacturerModel].filter(Boolean).join(' ') || undefined],
    ['Transfer syntax', d.transferSyntaxName],
    ['Grey levels', d.windowDescription],
  ];
  return (
    <section className="dicom-facts" aria-label="DICOM header" data-testid="dicom-facts">
      {notes.length > 0 && (
        <ul className="dicom-facts__notes" data-testid="dicom-notes">
          {notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      <dl className="facts facts--small">
        {facts
          .filter((f): f is [string, string] => f[1] !== undefined && f[1] !== '')
          .map(([k, v]) => (
            <Fragment key={k}>
              <dt>{k}</dt>
              <dd data-testid={`dicom-${k.toLowerCase().replace(/\s+/g, '-')}`}>{v}</dd>
            </Fragment>
          ))}
      </dl>
    </section>
  );
}
