import type { Activation, Loss, Preprocessing } from '../../src/index.js';
import type { DatasetName, DemoData } from './data.js';

/** The most hidden layers, and the widest, that the page builds. */
export const MAX_HIDDEN = 6;
export const MAX_WIDTH = 4096;

/** What a model file says a model is. */
export interface Architecture {
  sizes: readonly number[];
  activations: readonly Activation[];
  loss: Loss;
  preprocessing?: Preprocessing | null;
}

const TWO_D: DatasetName[] = ['spiral', 'moons', 'circles', 'xor'];

/**
 * The dataset a model fits, by its input and output widths: 784 → 10 is MNIST; 2 → 2 a 2-D set, the one the
 * file is named after (as the page names its downloads), else `current` if it is one, else the spirals. Throws,
 * saying why, for a model the page cannot train.
 */
export function datasetFor(m: Architecture, file: string, current: DatasetName): DatasetName {
  if (m.preprocessing) {
    throw new Error(
      'it was trained on a table, and the page loads models of its 2-D sets and MNIST only (apply it to new rows ' +
        'with webgrad predict)',
    );
  }
  const inputs = m.sizes[0];
  const outputs = m.sizes[m.sizes.length - 1];
  let name: DatasetName;
  if (inputs === 784 && outputs === 10) name = 'mnist';
  else if (inputs === 2 && outputs === 2) {
    name = TWO_D.find((n) => file.toLowerCase().includes(n)) ?? (TWO_D.includes(current) ? current : 'spiral');
  } else {
    throw new Error(
      `it maps ${inputs} inputs to ${outputs} outputs, and the datasets here need 2 → 2 (the 2-D sets) or ` +
        '784 → 10 (MNIST digits)',
    );
  }
  const widths = m.sizes.slice(1, -1);
  if (widths.length > MAX_HIDDEN) {
    throw new Error(`it has ${widths.length} hidden layers, and the page builds at most ${MAX_HIDDEN}`);
  }
  if (widths.some((w) => w > MAX_WIDTH)) throw new Error(`the page builds hidden layers of at most ${MAX_WIDTH}`);
  if (m.activations.slice(0, -1).includes('softmax')) {
    throw new Error('a hidden layer applies softmax, which the page does not offer for hidden layers');
  }
  const out = m.activations[m.activations.length - 1];
  if (m.loss !== 'mse' && out !== 'identity') {
    throw new Error(
      `its output layer applies ${out} before ${m.loss}, which the page trains with no output activation`,
    );
  }
  return name;
}

export function describeModel(m: { sizes: readonly number[]; activations: readonly string[]; loss: string }): string {
  const acts = [...new Set(m.activations.slice(0, -1))].join(', ') || 'no hidden layers';
  return `${m.sizes.join(' → ')}, ${acts}, ${m.loss}`;
}

/** The name a download gets: the dataset's (a table's file name) and the model's sizes. */
export function modelFileName(data: DemoData, sizes: readonly number[]): string {
  const stem = data.table ? data.table.file.replace(/\.[^.]*$/, '').replace(/[^\w.-]+/g, '_') : data.name;
  return `webgrad-${stem}-${sizes.join('-')}.safetensors`;
}

/** Hands `bytes` to the browser as a download named `name`. */
export function offerDownload(bytes: Uint8Array, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
