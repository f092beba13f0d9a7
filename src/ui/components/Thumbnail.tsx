import { memo, useEffect, useRef } from 'react';

/** Draws a square 8-bit gray image (the model input) on a canvas, scaled with crisp pixels by CSS. */
export const Thumbnail = memo(function Thumbnail({ gray, size, display, label }: { gray: Uint8Array; size: number; display: number; label: string }) {
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
  return <canvas ref={ref} width={size} height={size} className="thumb" style={{ width: display, height: display }} role="img" aria-label={label} data-testid="model-input" />;
});
