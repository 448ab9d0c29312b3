import type { Dataset } from '../../src/index.js';

/** Test digits shown with the model's guesses. */
export const GALLERY = 40;

/** Builds the gallery's cells once per dataset: a canvas with the digit and a caption each. */
export function buildGallery(el: HTMLElement, data: Dataset): void {
  el.replaceChildren();
  for (let i = 0; i < Math.min(GALLERY, data.n); i++) {
    const cell = document.createElement('figure');
    cell.className = 'digit';
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 28;
    const image = new ImageData(28, 28);
    for (let p = 0; p < 784; p++) {
      const v = 255 - data.x[i * 784 + p];
      image.data.set([v, v, v, 255], 4 * p);
    }
    canvas.getContext('2d')!.putImageData(image, 0, 0);
    const caption = document.createElement('figcaption');
    caption.textContent = '·';
    cell.append(canvas, caption);
    el.append(cell);
  }
}

/**
 * Captions each gallery digit with the model's guess; wrong guesses are marked and name the true digit. Only
 * the cells whose guess changed are touched, so a redraw while the model trains costs the page little.
 */
export function labelGallery(el: HTMLElement, probs: Float32Array | null, labels: ArrayLike<number>): number {
  let wrong = 0;
  el.querySelectorAll('figure').forEach((cell, i) => {
    const guess = probs ? argmax(probs.subarray(i * 10, i * 10 + 10)) : -1;
    const ok = guess === labels[i];
    if (probs && !ok) wrong++;
    if (cell.dataset.guess === String(guess)) return;
    cell.dataset.guess = String(guess);
    const caption = cell.querySelector('figcaption')!;
    if (!probs) {
      cell.classList.remove('wrong', 'right');
      caption.textContent = '·';
      cell.title = '';
      return;
    }
    cell.classList.toggle('wrong', !ok);
    cell.classList.toggle('right', ok);
    if (ok) caption.textContent = String(guess);
    else {
      const truth = document.createElement('small');
      truth.textContent = `(${labels[i]})`;
      caption.replaceChildren(`${guess} `, truth);
    }
    cell.title = ok ? `guessed ${guess}` : `guessed ${guess}, is ${labels[i]}`;
  });
  return wrong;
}

export function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

/**
 * A canvas to draw a digit on with mouse, pen or finger. `onChange` fires when a stroke ends, with the drawing
 * reduced to MNIST's form (see toMnist), or null once cleared.
 */
export class DrawPad {
  private drawing = false;
  private last: { x: number; y: number } | null = null;
  private ink = false;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly preview: HTMLCanvasElement,
    private readonly onChange: (pixels: Float32Array | null) => void,
  ) {
    canvas.width = canvas.height = 280;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => {
      canvas.setPointerCapture(e.pointerId);
      this.drawing = true;
      this.last = null;
      this.stroke(e);
    });
    canvas.addEventListener('pointermove', (e) => this.drawing && this.stroke(e));
    const end = () => {
      if (!this.drawing) return;
      this.drawing = false;
      this.changed();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  clear(): void {
    const ctx = this.canvas.getContext('2d')!;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.ink = false;
    this.preview.getContext('2d')!.clearRect(0, 0, this.preview.width, this.preview.height);
    this.onChange(null);
  }

  /** The current drawing in MNIST form, or null when the pad is empty. */
  pixels(): Float32Array | null {
    return this.ink ? toMnist(this.canvas, this.preview) : null;
  }

  private stroke(e: PointerEvent): void {
    const rect = this.canvas.getBoundingClientRect();
    const x = ((e.clientX - rect.left) / rect.width) * this.canvas.width;
    const y = ((e.clientY - rect.top) / rect.height) * this.canvas.height;
    const ctx = this.canvas.getContext('2d')!;
    ctx.strokeStyle = '#fff';
    ctx.fillStyle = '#fff';
    ctx.lineWidth = 22;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    if (this.last) {
      ctx.moveTo(this.last.x, this.last.y);
      ctx.lineTo(x, y);
      ctx.stroke();
    } else {
      ctx.arc(x, y, 11, 0, 2 * Math.PI);
      ctx.fill();
    }
    this.last = { x, y };
    this.ink = true;
  }

  private changed(): void {
    this.onChange(this.pixels());
  }
}

/**
 * Reduces a drawing the way MNIST's digits were made: the ink's bounding box scaled (keeping its aspect) to fit
 * 20 × 20, placed on 28 × 28 with its centre of mass at the centre. Returns pixels in [0, 1] and paints them
 * on `preview`.
 */
export function toMnist(source: HTMLCanvasElement, preview?: HTMLCanvasElement): Float32Array | null {
  const { width, height } = source;
  const data = source.getContext('2d')!.getImageData(0, 0, width, height).data;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[4 * (y * width + x)] > 20) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const scale = 20 / Math.max(w, h);
  const dw = Math.max(1, Math.round(w * scale));
  const dh = Math.max(1, Math.round(h * scale));
  // Scale in halving steps: one big drawImage step would sample the strokes instead of averaging them.
  let stage: HTMLCanvasElement = source;
  let sx = x0;
  let sy = y0;
  let sw = w;
  let sh = h;
  while (sw / 2 > dw && sh / 2 > dh) {
    const half = document.createElement('canvas');
    half.width = Math.ceil(sw / 2);
    half.height = Math.ceil(sh / 2);
    const hctx = half.getContext('2d')!;
    hctx.imageSmoothingQuality = 'high';
    hctx.drawImage(stage, sx, sy, sw, sh, 0, 0, half.width, half.height);
    stage = half;
    sx = sy = 0;
    sw = half.width;
    sh = half.height;
  }
  const box = document.createElement('canvas');
  box.width = dw;
  box.height = dh;
  const bctx = box.getContext('2d')!;
  bctx.imageSmoothingQuality = 'high';
  bctx.drawImage(stage, sx, sy, sw, sh, 0, 0, dw, dh);
  const small = bctx.getImageData(0, 0, dw, dh).data;
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      const v = small[4 * (y * dw + x)];
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  const ox = Math.round(14 - mx / mass);
  const oy = Math.round(14 - my / mass);
  const pixels = new Float32Array(784);
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      const tx = x + ox;
      const ty = y + oy;
      if (tx >= 0 && tx < 28 && ty >= 0 && ty < 28) pixels[ty * 28 + tx] = small[4 * (y * dw + x)] / 255;
    }
  }
  if (preview) {
    preview.width = preview.height = 28;
    const image = new ImageData(28, 28);
    for (let p = 0; p < 784; p++) {
      const v = 255 - Math.round(pixels[p] * 255);
      image.data.set([v, v, v, 255], 4 * p);
    }
    preview.getContext('2d')!.putImageData(image, 0, 0);
  }
  return pixels;
}

/** Fills the ten probability bars; the most likely digit is highlighted. */
export function showProbabilities(el: HTMLElement, probs: Float32Array | null): void {
  if (el.childElementCount !== 10) {
    el.replaceChildren();
    for (let d = 0; d < 10; d++) {
      const row = document.createElement('div');
      row.className = 'prob';
      row.innerHTML = `<span class="prob-digit">${d}</span><span class="prob-bar"><span></span></span><span class="prob-value"></span>`;
      el.append(row);
    }
  }
  const best = probs ? argmax(probs) : -1;
  el.querySelectorAll<HTMLElement>('.prob').forEach((row, d) => {
    const p = probs ? probs[d] : 0;
    row.classList.toggle('best', d === best);
    row.querySelector<HTMLElement>('.prob-bar > span')!.style.width = `${(p * 100).toFixed(1)}%`;
    row.querySelector<HTMLElement>('.prob-value')!.textContent = probs ? `${(p * 100).toFixed(1)}%` : '';
  });
  el.dataset.guess = best >= 0 ? String(best) : '';
}
