import type { OptimizerOptions } from '../core/types.js';
import { show } from './safetensors.js';

/**
 * The optimizer in a model file's metadata: which options each optimizer type takes and what values they may
 * have, and the checks on metadata.optimizer, metadata.optimizer_step and metadata.clip_norm. Names from the file
 * are looked up in Maps only, so "constructor" or "__proto__" cannot reach Object.prototype.
 */

type OptimizerType = OptimizerOptions['type'];

/** The state buffers each optimizer type keeps, by their torch names. */
export const STATE_NAMES: ReadonlyMap<string, readonly string[]> = new Map<OptimizerType, readonly string[]>([
  ['sgd', ['momentum_buffer']],
  ['adam', ['exp_avg', 'exp_avg_sq']],
  ['adamw', ['exp_avg', 'exp_avg_sq']],
]);

/** A check on one optimizer option: `ok` says whether a value from the file is acceptable. */
interface Field {
  expected: string;
  ok: (value: unknown) => boolean;
  /** The kind is right (a number, a boolean) but the value is out of range: a RangeError, else a TypeError. */
  rightKind: (value: unknown) => boolean;
}

const isNumber = (v: unknown): v is number => typeof v === 'number';
const NON_NEGATIVE: Field = {
  expected: 'a finite number >= 0',
  ok: (v) => isNumber(v) && Number.isFinite(v) && v >= 0,
  rightKind: isNumber,
};
const POSITIVE: Field = {
  expected: 'a finite number > 0',
  ok: (v) => isNumber(v) && Number.isFinite(v) && v > 0,
  rightKind: isNumber,
};
const BETA: Field = { expected: 'a number in [0, 1)', ok: (v) => isNumber(v) && v >= 0 && v < 1, rightKind: isNumber };
const BOOLEAN: Field = { expected: 'a boolean', ok: (v) => typeof v === 'boolean', rightKind: () => false };

const ADAM_FIELDS = new Map([
  ['learningRate', NON_NEGATIVE],
  ['beta1', BETA],
  ['beta2', BETA],
  ['eps', POSITIVE],
  ['weightDecay', NON_NEGATIVE],
]);
/** The options each optimizer type takes besides `type` (as validateOptimizer in src/nn/optimizers.ts). */
export const OPTIMIZER_FIELDS: ReadonlyMap<string, ReadonlyMap<string, Field>> = new Map<
  OptimizerType,
  ReadonlyMap<string, Field>
>([
  [
    'sgd',
    new Map([
      ['learningRate', NON_NEGATIVE],
      ['momentum', NON_NEGATIVE],
      ['nesterov', BOOLEAN],
      ['weightDecay', NON_NEGATIVE],
    ]),
  ],
  ['adam', ADAM_FIELDS],
  ['adamw', ADAM_FIELDS],
]);

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DIGITS = /^\d+$/;

/**
 * Checks the optimizer options field by field and returns a fresh object holding only the checked fields, in
 * the file's order (the order save() got them in, so a resumed fit with the same options keeps the state).
 * `parsed` is metadata.optimizer parsed as JSON; `text` is the metadata itself, for messages.
 */
export function decodeOptimizerOptions(parsed: unknown, text: string): OptimizerOptions {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TypeError(
      `load: metadata.optimizer must be a JSON object { type, learningRate, ... }, got ${show(text)}`,
    );
  }
  const source = parsed as Record<string, unknown>;
  const type = Object.hasOwn(source, 'type') ? source.type : undefined;
  const fields = typeof type === 'string' ? OPTIMIZER_FIELDS.get(type) : undefined;
  if (!fields) {
    throw new TypeError(
      `load: metadata.optimizer.type must be one of ${[...OPTIMIZER_FIELDS.keys()].join(', ')}, got ${show(type)}`,
    );
  }
  if (!Object.hasOwn(source, 'learningRate')) throw new TypeError('load: metadata.optimizer.learningRate is missing');
  const options: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    if (key === 'type') {
      options.type = type;
      continue;
    }
    const check = fields.get(key);
    if (!check) {
      throw new TypeError(
        `load: metadata.optimizer has the unknown key ${show(key)}; ${type} takes ${[...fields.keys()].join(', ')}`,
      );
    }
    const value = source[key];
    if (!check.ok(value)) {
      const Kind = check.rightKind(value) ? RangeError : TypeError;
      throw new Kind(`load: metadata.optimizer.${key} must be ${check.expected}, got ${show(value)}`);
    }
    options[key] = value;
  }
  const momentum = options.momentum;
  if (options.nesterov === true && !(typeof momentum === 'number' && momentum > 0)) {
    throw new RangeError('load: metadata.optimizer.nesterov needs momentum > 0');
  }
  return options as unknown as OptimizerOptions;
}

/** metadata.optimizer_step: the number of steps taken. */
export function decodeStep(text: string | undefined): number {
  const step = text !== undefined && DIGITS.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(step)) {
    throw new RangeError(`load: metadata.optimizer_step must be an integer >= 0, got ${show(text)}`);
  }
  return step;
}

/** metadata.clip_norm: the gradient clipping norm, when one was set. */
export function decodeClipNorm(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!DECIMAL.test(text)) {
    throw new TypeError(`load: metadata.clip_norm must be a finite number > 0 in decimal, got ${show(text)}`);
  }
  const clipNorm = Number(text);
  if (!(Number.isFinite(clipNorm) && clipNorm > 0)) {
    throw new RangeError(`load: metadata.clip_norm must be a finite number > 0, got ${show(text)}`);
  }
  return clipNorm;
}
