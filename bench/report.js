// Formatting shared by the browser bench (bench/run.js) and the Node bench (bench/node.ts): numbers, aligned
// tables, and the training table with webgrad's ratios to its peers.

/**
 * @typedef {{ name: string, library: string, batch?: number, samplesPerSec?: number | null,
 *   msMedian: number | null, note?: string, error?: string }} TrainRow
 */

/** @param {number | null | undefined} x */
export function fmt(x) {
  if (x == null || !Number.isFinite(x)) return '-';
  if (x >= 1000) return Math.round(x).toLocaleString('en-US');
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

/** @param {number} bytes */
export const mib = (bytes) => `${fmt(bytes / 2 ** 20)} MiB`;

/**
 * Prints rows as aligned columns: the first column left-aligned, the others right-aligned.
 * @param {string} title
 * @param {string[]} header
 * @param {string[][]} rows
 */
export function printTable(title, header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (/** @type {string[]} */ cells) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(`\n${title}\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of rows) console.log(line(r));
}

/**
 * What the timing that chose webgrad's kernel saw, for the title of a table: ms for the three 256³ products.
 * @param {{ webgradTimings?: Record<string, number> | null }} adapter
 */
export function timedText(adapter) {
  const t = adapter.webgradTimings;
  if (!t) return '';
  return ` (timed, ms for 256³ NT+NN+TN: ${Object.entries(t)
    .map(([k, ms]) => `${k} ${ms.toFixed(1)}`)
    .join(', ')})`;
}

/**
 * The training table: samples/s (ms per step) per library and batch, and webgrad's ratios (with the kernel it
 * picks on the adapter) to TensorFlow.js WebGPU and wasm; then each library's note.
 * @param {{ webgradMatmul?: string, webgradTimings?: Record<string, number> | null }} adapter
 * @param {TrainRow[]} results
 */
export function printTraining(adapter, results) {
  const tr = results.filter((r) => r.name.startsWith('train-'));
  if (tr.length) {
    const libs = [...new Set(tr.map((r) => r.library))];
    const ours = `webgrad-${adapter.webgradMatmul ?? 'regular'}`;
    const batches = [...new Set(tr.map((r) => r.batch))];
    const find = (/** @type {number | undefined} */ b, /** @type {string} */ lib) =>
      tr.find((x) => x.batch === b && x.library === lib);
    const ratio = (/** @type {number | undefined} */ b, /** @type {string} */ peer) => {
      const [w, p] = [find(b, ours)?.samplesPerSec, find(b, peer)?.samplesPerSec];
      return w && p ? `${(w / p).toFixed(1)}x` : '-';
    };
    const fit = libs.includes('webgrad-fit');
    const fitRatio = (/** @type {number | undefined} */ b, /** @type {string} */ peer) => {
      const [w, p] = [find(b, 'webgrad-fit')?.samplesPerSec, find(b, peer)?.samplesPerSec];
      return w && p ? `${(w / p).toFixed(1)}x` : '-';
    };
    printTable(
      `Training step, MLP 784-256-256-10, SGD: samples/s (ms per step). webgrad uses '${adapter.webgradMatmul}' here${timedText(adapter)}`,
      [
        'batch',
        ...libs,
        'webgrad/tfjs-webgpu',
        'webgrad/tfjs-wasm',
        ...(fit ? ['fit/tfjs-webgpu', 'fit/tfjs-wasm'] : []),
      ],
      batches.map((b) => [
        String(b),
        ...libs.map((lib) => {
          const r = find(b, lib);
          if (r?.error) return 'ERROR';
          return r?.samplesPerSec ? `${fmt(r.samplesPerSec)} (${fmt(r.msMedian)})` : '-';
        }),
        ratio(b, 'tfjs-webgpu'),
        ratio(b, 'tfjs-wasm'),
        ...(fit ? [fitRatio(b, 'tfjs-webgpu'), fitRatio(b, 'tfjs-wasm')] : []),
      ]),
    );
    for (const peer of ['tfjs-webgpu', 'tfjs-wasm']) {
      const r = tr.find((x) => x.library === peer && x.note);
      if (r) console.log(`${peer}: ${r.note}`);
    }
    const note = tr.find((r) => r.library === ours && r.note);
    if (note) console.log(`webgrad: ${note.note}`);
  }
}
