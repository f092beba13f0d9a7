import { memo, useEffect, useRef } from 'react';

/**
 * The one gray-canvas component: a square 8-bit gray image (a model input, a data-set thumbnail, an
 * augmented variant) on a canvas, scaled with crisp pixels by CSS. An empty label marks a decorative
 * copy (e.g. inside a labelled button): hidden from screen readers instead of announced twice.
 */
export const Thumbnail = memo(function Thumbnail({
  gray,
  size,
  display,
  label,
  className = 'thumb',
  testId = 'model-input',
}: {
  gray: Uint8Array;
  size: number;
  display: number;
  label: string;
  className?: string;
  testId?: string;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    // A CPU-backed canvas: drawn once and small, it gains nothing from the GPU, and a GPU canvas
    // per table row costs a round trip to the GPU process each (hundreds of ms under SwiftShader).
    const ctx = ref.current?.getContext('2d', { willReadFrequently: true });
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
  const a11y = label ? { role: 'img', 'aria-label': label } : { 'aria-hidden': true };
  return (
    <canvas
      ref={ref}
      width={size}
      height={size}
      className={className}
      style={{ width: display, height: display }}
      {...a11y}
      data-testid={testId || undefined}
    />
  );
});
