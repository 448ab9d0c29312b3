import { ACTIVATIONS, type Activation } from '../../src/index.js';
import { MAX_HIDDEN, MAX_WIDTH } from './model-files.js';

export interface Layer {
  width: number;
  activation: Activation;
}

/**
 * The network as the page edits it: the hidden layers' widths and activations, and the output layer's activation
 * (identity where the loss applies softmax or sigmoid itself). `changed` runs after every edit.
 */
export class LayerEditor {
  hidden: Layer[] = [];
  output: Activation = 'identity';
  /**
   * The rows as last written: they are written again only when they change, since new form controls cost the
   * page a style and layout pass (and the browser's form tracking one more) at every Start and Pause.
   */
  private html = '';

  constructor(
    private readonly el: HTMLElement,
    private readonly addButton: HTMLButtonElement,
    private readonly count: HTMLElement,
    private readonly changed: () => void,
  ) {
    el.addEventListener('change', (e) => this.edit(e.target as HTMLElement));
    el.addEventListener('click', (e) => {
      const target = e.target as HTMLElement;
      if (!target.classList.contains('remove')) return;
      this.hidden.splice(Number(target.closest<HTMLElement>('.layer')!.dataset.index), 1);
      changed();
    });
    addButton.addEventListener('click', () => {
      const last = this.hidden[this.hidden.length - 1];
      this.hidden.push({ width: last?.width ?? 32, activation: last?.activation ?? 'relu' });
      changed();
    });
  }

  /** The sizes of a model from `inputs` to `outputs` through the hidden layers. */
  sizes(inputs: number, outputs: number): number[] {
    return [inputs, ...this.hidden.map((l) => l.width), outputs];
  }

  /** Every layer's activation, the output's identity unless the loss is mse. */
  activations(loss: string): Activation[] {
    return [...this.hidden.map((l) => l.activation), loss === 'mse' ? this.output : 'identity'];
  }

  /** Shows the layers between `ends` (input and output widths; null: not known yet) for `loss`. */
  render(ends: [number, number] | null, loss: string, locked: boolean): void {
    const fused = loss !== 'mse';
    if (fused) this.output = 'identity';
    const html = this.rows(ends, fused);
    if (html !== this.html) {
      this.el.innerHTML = html;
      this.html = html;
    }
    this.addButton.disabled = this.hidden.length >= MAX_HIDDEN || locked;
    for (const el of this.el.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLButtonElement>(
      'input, select, button',
    )) {
      el.disabled = locked || (fused && el.id === 'output-act');
    }
    const sizes = this.sizes(ends?.[0] ?? 0, ends?.[1] ?? 0);
    let params = 0;
    for (let l = 0; l + 1 < sizes.length; l++) params += sizes[l] * sizes[l + 1] + sizes[l + 1];
    const count = ends
      ? `${sizes.join(' → ')} · ${params.toLocaleString('en-US')} parameters`
      : 'The file sets the inputs and outputs.';
    if (this.count.textContent !== count) this.count.textContent = count;
  }

  private rows(ends: [number, number] | null, fused: boolean): string {
    const [inp, out] = ends ?? ['–', '–'];
    const options = (selected: Activation, allowed: readonly Activation[]) =>
      allowed.map((a) => `<option value="${a}"${a === selected ? ' selected' : ''}>${a}</option>`).join('');
    const rows = this.hidden.map(
      (l, i) => `<div class="layer" data-index="${i}">
      <span class="layer-name">Hidden ${i + 1}</span>
      <input class="layer-width" type="number" min="1" max="${MAX_WIDTH}" value="${l.width}" aria-label="Width of hidden layer ${i + 1}" data-testid="layer-width-${i}" />
      <select class="layer-act" aria-label="Activation of hidden layer ${i + 1}" data-testid="layer-act-${i}">${options(
        l.activation,
        ACTIVATIONS.filter((a) => a !== 'softmax'),
      )}</select>
      <button type="button" class="remove" title="Remove this layer" aria-label="Remove hidden layer ${i + 1}">×</button>
    </div>`,
    );
    return `<div class="layer io"><span class="layer-name">Input</span><span class="layer-fixed">${inp}</span></div>
    ${rows.join('')}
    <div class="layer io"><span class="layer-name">Output</span><span class="layer-fixed">${out}</span>
      <select id="output-act" aria-label="Output activation" data-testid="output-act" ${fused ? 'title="This loss applies softmax or sigmoid itself"' : ''}>${options(this.output, fused ? ['identity'] : ACTIVATIONS)}</select>
    </div>`;
  }

  private edit(target: HTMLElement): void {
    // Written again even if the layers are unchanged: a width that was refused shows the one kept.
    this.html = '';
    const row = target.closest<HTMLElement>('.layer');
    if (target.id === 'output-act') this.output = (target as HTMLSelectElement).value as Activation;
    else if (row?.dataset.index !== undefined) {
      const layer = this.hidden[Number(row.dataset.index)];
      if (target.classList.contains('layer-width')) {
        const w = Math.round(Number((target as HTMLInputElement).value));
        layer.width = Number.isFinite(w) ? Math.min(MAX_WIDTH, Math.max(1, w)) : layer.width;
      } else if (target.classList.contains('layer-act')) {
        layer.activation = (target as HTMLSelectElement).value as Activation;
      }
    }
    this.changed();
  }
}
