import type { Dataset } from '../../src/index.js';

/** Grid points per side at which the model is evaluated; the image is smoothed up to the canvas size. */
export const GRID = 72;

/** Class colours (class 0, class 1), shared with the legend in the page's CSS. */
const CLASS_RGB: [number, number, number][] = [
  [249, 115, 22],
  [37, 99, 235],
];

/** Points drawn over the regions: enough to show the shape, few enough to leave the regions visible. */
const MAX_POINTS = 1200;

/** The grid's centres over [-extent, extent]², row by row from the top, as predict takes them. */
export function gridInputs(extent: number): Float32Array {
  const x = new Float32Array(GRID * GRID * 2);
  for (let j = 0; j < GRID; j++) {
    for (let i = 0; i < GRID; i++) {
      const k = 2 * (j * GRID + i);
      x[k] = -extent + ((i + 0.5) / GRID) * 2 * extent;
      x[k + 1] = extent - ((j + 0.5) / GRID) * 2 * extent;
    }
  }
  return x;
}

/**
 * How sure the model is of class 1 at each grid point, in [0, 1], from predict's output [n, 2]: probabilities
 * for cross_entropy, per-output sigmoids for binary_cross_entropy, raw scores for mse.
 */
export function classOneShare(out: Float32Array, loss: string): Float32Array {
  const n = out.length / 2;
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = out[2 * i];
    const b = out[2 * i + 1];
    if (loss === 'cross_entropy') t[i] = b;
    else if (loss === 'binary_cross_entropy') t[i] = b / (a + b || 1);
    else t[i] = Math.min(1, Math.max(0, (b - a + 1) / 2));
  }
  return t;
}

/** The data points as drawn over the regions, kept per canvas: painting them is most of a redraw's work. */
const pointLayers = new WeakMap<HTMLCanvasElement, { data: Dataset; extent: number; layer: HTMLCanvasElement }>();

/** The grid's colours at GRID x GRID, scaled up onto the canvas; one buffer reused by every redraw. */
const grid = { image: null as ImageData | null, canvas: null as HTMLCanvasElement | null };

/**
 * Paints the regions (colour by class, paler where the model is unsure) and the data points on top. The points
 * are drawn once per dataset and canvas size into a layer of their own, so a redraw while the model trains is
 * two image copies: short enough to leave the page responsive.
 */
export function drawRegions(canvas: HTMLCanvasElement, share: Float32Array | null, data: Dataset, extent: number) {
  const ctx = fitCanvas(canvas);
  const { width, height } = canvas;
  ctx.fillStyle = '#f8fafc';
  ctx.fillRect(0, 0, width, height);
  if (share) {
    grid.image ??= new ImageData(GRID, GRID);
    const pixels = grid.image.data;
    for (let k = 0; k < GRID * GRID; k++) {
      const p = share[k];
      const [r, g, b] = CLASS_RGB[p >= 0.5 ? 1 : 0];
      const strength = 0.18 + 0.42 * Math.abs(2 * p - 1);
      pixels[4 * k] = 255 + (r - 255) * strength;
      pixels[4 * k + 1] = 255 + (g - 255) * strength;
      pixels[4 * k + 2] = 255 + (b - 255) * strength;
      pixels[4 * k + 3] = 255;
    }
    if (!grid.canvas) {
      grid.canvas = document.createElement('canvas');
      grid.canvas.width = grid.canvas.height = GRID;
    }
    grid.canvas.getContext('2d')!.putImageData(grid.image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(grid.canvas, 0, 0, width, height);
  }
  ctx.drawImage(pointLayer(canvas, data, extent), 0, 0);
}

/** The points of `data` on a transparent canvas of `canvas`'s size (made again when either changes). */
function pointLayer(canvas: HTMLCanvasElement, data: Dataset, extent: number): HTMLCanvasElement {
  const { width, height } = canvas;
  const kept = pointLayers.get(canvas);
  if (
    kept &&
    kept.data === data &&
    kept.extent === extent &&
    kept.layer.width === width &&
    kept.layer.height === height
  ) {
    return kept.layer;
  }
  const layer = document.createElement('canvas');
  layer.width = width;
  layer.height = height;
  const ctx = layer.getContext('2d')!;
  const step = Math.max(1, Math.floor(data.n / MAX_POINTS));
  const radius = Math.max(2, width / 190);
  ctx.lineWidth = Math.max(1, radius / 2.5);
  ctx.strokeStyle = 'rgba(255,255,255,0.9)';
  const x = data.x as Float32Array;
  for (let i = 0; i < data.n; i += step) {
    const [r, g, b] = CLASS_RGB[data.y[i]];
    const px = ((x[2 * i] + extent) / (2 * extent)) * width;
    const py = ((extent - x[2 * i + 1]) / (2 * extent)) * height;
    ctx.beginPath();
    ctx.arc(px, py, radius, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fill();
    ctx.stroke();
  }
  pointLayers.set(canvas, { data, extent, layer });
  return layer;
}

/** Sizes the canvas's backing store to its CSS size at the device's pixel ratio. */
export function fitCanvas(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.round(canvas.clientWidth * ratio);
  const h = Math.round(canvas.clientHeight * ratio);
  if (w > 0 && h > 0 && (canvas.width !== w || canvas.height !== h)) {
    canvas.width = w;
    canvas.height = h;
  }
  return canvas.getContext('2d')!;
}
