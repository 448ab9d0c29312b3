// Plain nn.Sequential state_dicts (as PyTorch saves them with safetensors) read with a caller's architecture.
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from '../../src/io/model-file.js';
import { encodeSafetensors, type TensorEntry } from '../../src/io/safetensors.js';

const t = (name: string, shape: number[]): TensorEntry => ({
  name,
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i / 10),
});
// nn.Sequential(Linear(4, 8), ReLU(), Dropout(), Linear(8, 3)): indices 0 and 3, torch's own metadata.
const torchFile = encodeSafetensors(
  [t('0.weight', [8, 4]), t('0.bias', [8]), t('3.weight', [3, 8]), t('3.bias', [3])],
  {
    format: 'pt',
  },
);
const arch = { activations: ['relu', 'identity'] as const, loss: 'cross_entropy' as const };

function error(run: () => unknown): Error {
  try {
    run();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
}

describe('plain state_dicts', () => {
  it('load with the architecture given: sizes from the shapes, no optimizer or preprocessing', () => {
    const file = decodeModel(torchFile, { activations: [...arch.activations], loss: arch.loss });
    expect(file.sizes).toEqual([4, 8, 3]);
    expect(file.activations).toEqual(['relu', 'identity']);
    expect(file.params[1].weight).toEqual(t('3.weight', [3, 8]).data);
    expect(file.optimizer).toBe(null);
    expect(file.preprocessing).toBe(null);
  });

  it('without the architecture, say how to give it', () => {
    expect(error(() => decodeModel(torchFile)).message).toMatch(
      /metadata\.format must be "webgrad-mlp", got "pt"; a file without webgrad's metadata \(a PyTorch state_dict\) loads with \{ activations, loss \} given/,
    );
  });

  it('list the keys found and expected when names or shapes do not fit', () => {
    const three = { activations: ['relu', 'relu', 'identity'] as ('relu' | 'identity')[], loss: 'mse' as const };
    const e = error(() => decodeModel(torchFile, three));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toMatch(/2 Linear layers in the file, 3 activations given/);
    expect(e.message).toMatch(/Found 4: "0\.weight" \[8,4\], "0\.bias" \[8\], "3\.weight" \[3,8\], "3\.bias" \[3\]/);
    expect(e.message).toMatch(/Expected: 0\.weight, 0\.bias, 2\.weight, 2\.bias, 4\.weight, 4\.bias/);
    const norm = encodeSafetensors([t('0.weight', [8, 4]), t('0.bias', [8]), t('1.running_mean', [8])], {});
    expect(error(() => decodeModel(norm, { activations: ['identity'], loss: 'mse' })).message).toMatch(
      /"1\.running_mean" is not named <index>\.weight or <index>\.bias/,
    );
    const chain = encodeSafetensors(
      [t('0.weight', [8, 4]), t('0.bias', [8]), t('2.weight', [3, 7]), t('2.bias', [3])],
      {},
    );
    expect(error(() => decodeModel(chain, { ...arch, activations: ['relu', 'identity'] })).message).toMatch(
      /"2\.weight" takes 7 inputs, but the layer before gives 8/,
    );
  });

  it('check the architecture, and a webgrad file must agree with it', () => {
    expect(() => decodeModel(torchFile, { activations: ['swish'], loss: 'mse' } as never)).toThrow(TypeError);
    expect(() => decodeModel(torchFile, { activations: ['relu', 'relu'], loss: 'cross_entropy' })).toThrow(
      /last activation must be 'identity'/,
    );
    const spec = { sizes: [4, 8, 3], activations: ['relu', 'identity'] as const, loss: 'cross_entropy' as const };
    const params = decodeModel(torchFile, { activations: ['relu', 'identity'], loss: 'cross_entropy' }).params;
    const own = encodeModel({ ...spec, activations: [...spec.activations] }, params, null);
    expect(decodeModel(own, { activations: ['relu', 'identity'], loss: 'cross_entropy' }).sizes).toEqual([4, 8, 3]);
    expect(error(() => decodeModel(own, { activations: ['tanh', 'identity'], loss: 'cross_entropy' })).message).toMatch(
      /webgrad model with activations \["relu","identity"\] and loss cross_entropy, but the options say/,
    );
  });
});
