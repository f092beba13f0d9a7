import { memo, useEffect, useRef } from 'react';

/** A square 8-bit gray image on a canvas, scaled with crisp pixels by CSS. */
export const GrayThumb = memo(function GrayThumb({
  gray,
  size,
  display,
  label,
  testId,
}: {
  gray: Uint8Array;
  size: number;
  display: number;
  label: string;
  testId?: string;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const img = ctx.createImageData(size, size);
    for (let i = 0; i < size * size; i++) {
      const v = gray[i];
      img.data[i * 4] = v;
      img.data[i * 4 + 1] = v;
      img.data[i * 4 + 2] = v;
      img.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [gray, size]);
  // An empty label marks a decorative copy (e.g. inside a labelled button).
  const a11y = label ? { role: 'img', 'aria-label': label } : { 'aria-hidden': true };
  return <canvas ref={ref} width={size} height={size} className="tr-thumb" style={{ width: display, height: display }} {...a11y} data-testid={testId} />;
});
