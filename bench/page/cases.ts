// The benchmark's options and list of cases, free of browser globals: the page (main.ts) and the Node bench
// (bench/node.ts) resolve the same defaults and run the same training cases.
import type { BenchOptions } from './common.js';
import { type MatmulLibrary, WEBGRAD_VARIANTS, type WebgradVariant } from './matmul.js';
import { type TrainLibrary, TRAIN_PEERS } from './train.js';

/** The adapter-peak kernels (peak.ts), named here because peak.ts loads WGSL through vite. */
export type PeakCase = 'fma' | 'copy-shader' | 'copy-buffer';
export const PEAK_CASES: readonly PeakCase[] = ['fma', 'copy-shader', 'copy-buffer'];

export type Part = 'peak' | 'matmul' | 'train';
export const PARTS: readonly Part[] = ['peak', 'matmul', 'train'];

export interface PageOptions extends BenchOptions {
  only: Part[];
  /** Matmul sizes (square: m = n = k). */
  sizes: number[];
  /** Training batch sizes. */
  batches: number[];
  /** webgrad's matmul kernels to train with (bench/run.js passes 'regular' and the adapter's default). */
  trainVariants: WebgradVariant[];
}

export type Case =
  | { part: 'peak'; which: PeakCase }
  | { part: 'matmul'; size: number; libraries: MatmulLibrary[] }
  | { part: 'train'; batch: number; libraries: TrainLibrary[] };

export function resolveOptions(o: Partial<PageOptions> = {}): PageOptions {
  const smoke = o.smoke ?? false;
  return {
    smoke,
    reps: o.reps ?? (smoke ? 1 : 5),
    warmup: o.warmup ?? 1,
    targetMs: o.targetMs ?? (smoke ? 0 : 50),
    maxIters: o.maxIters ?? 100,
    only: o.only ?? [...PARTS],
    sizes: o.sizes ?? (smoke ? [32, 33] : [256, 512, 1024, 300, 777]),
    batches: o.batches ?? (smoke ? [16] : [64, 1024, 8192]),
    trainVariants: o.trainVariants ?? [...WEBGRAD_VARIANTS],
  };
}

export function listCases(o: PageOptions): Case[] {
  const cases: Case[] = [];
  if (o.only.includes('peak')) for (const which of PEAK_CASES) cases.push({ part: 'peak', which });
  if (o.only.includes('matmul')) {
    // One case per size: its forms and libraries are timed against each other and the FMA peak.
    const libraries: MatmulLibrary[] = ['tfjs-webgpu', ...WEBGRAD_VARIANTS.map((v) => `webgrad-${v}` as const)];
    for (const size of o.sizes) cases.push({ part: 'matmul', size, libraries });
  }
  if (o.only.includes('train')) {
    const libraries: TrainLibrary[] = [
      ...TRAIN_PEERS,
      ...o.trainVariants.map((v) => `webgrad-${v}` as const),
      'webgrad-fit',
    ];
    // One case per batch: its libraries are timed against each other, their repetitions interleaved.
    for (const batch of o.batches) cases.push({ part: 'train', batch, libraries });
  }
  return cases;
}
