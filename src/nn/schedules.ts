import { describe } from '../core/errors.js';
import type { ScheduleOptions } from '../core/types.js';

/**
 * The learning-rate factor at step t (0-based, over the whole fit) of `totalSteps`, as documented on
 * ScheduleOptions: linear warmup, then constant, step, exponential, cosine or linear decay.
 */
export function scheduleFactor(schedule: ScheduleOptions | undefined, t: number, totalSteps: number): number {
  if (!schedule) return 1;
  const warmup = schedule.warmupSteps ?? 0;
  if (t < warmup) return (t + 1) / warmup;
  const s = t - warmup;
  const span = totalSteps - warmup;
  switch (schedule.type) {
    case 'constant':
      return 1;
    case 'step':
      return (schedule.gamma ?? 0.1) ** Math.floor(s / schedule.stepSize);
    case 'exponential':
      return schedule.gamma ** s;
    case 'cosine': {
      const min = schedule.minFactor ?? 0;
      // Past the end the factor stays at its floor rather than rising again.
      return s >= span ? min : min + ((1 - min) * (1 + Math.cos((Math.PI * s) / span))) / 2;
    }
    case 'linear': {
      const min = schedule.minFactor ?? 0;
      return s >= span ? min : 1 - ((1 - min) * s) / span;
    }
  }
}

const TYPES = ['constant', 'step', 'exponential', 'cosine', 'linear'];

/** Throws a TypeError/RangeError naming the field for schedule options that cannot work. */
export function validateSchedule(schedule: ScheduleOptions): void {
  if (typeof schedule !== 'object' || schedule === null || !TYPES.includes(schedule.type)) {
    throw new TypeError(
      `schedule: type must be one of ${TYPES.join(', ')}, got ${describe((schedule as { type?: unknown })?.type ?? schedule)}`,
    );
  }
  const check = (name: string, v: unknown, ok: (v: number) => boolean, expected: string) => {
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && ok(v))) {
      throw new RangeError(`schedule: ${name} must be ${expected}, got ${describe(v)}`);
    }
  };
  check('warmupSteps', schedule.warmupSteps, (v) => Number.isInteger(v) && v >= 0, 'an integer >= 0');
  check('totalSteps', schedule.totalSteps, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1');
  if (schedule.type === 'step') {
    if (schedule.stepSize === undefined) throw new TypeError('schedule: step needs stepSize');
    check('stepSize', schedule.stepSize, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1');
    check('gamma', schedule.gamma, (v) => v > 0, '> 0');
  }
  if (schedule.type === 'exponential') {
    if (schedule.gamma === undefined) throw new TypeError('schedule: exponential needs gamma');
    check('gamma', schedule.gamma, (v) => v > 0, '> 0');
  }
  if (schedule.type === 'cosine' || schedule.type === 'linear') {
    check('minFactor', schedule.minFactor, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  }
}
