import type { ScheduleOptions } from '../../src/core/types.js';

/**
 * The factor on the base learning rate at 0-based step t of a fit lasting totalSteps, in float64, written from
 * the JSDoc of ScheduleOptions (src/core/types.ts) as an explicit piecewise definition:
 *
 *   warmup   t < W:  (t + 1)/W, a linear ramp up to the factor 1 that every schedule proper starts from
 *   then     s = t − W, T = totalSteps − W, and the schedule proper f(s):
 *   constant         1
 *   step             gamma multiplied in once per completed stepSize steps (gamma^⌊s/stepSize⌋, gamma default 0.1)
 *   exponential      gamma^s = exp(s·ln gamma)
 *   cosine           min + (1 − min)·cos²(π·s/(2T))  (= min + (1 − min)·(1 + cos(π·s/T))/2)  for s < T, min after
 *   linear           (1 − s/T)·1 + (s/T)·min  (from 1 down to min)  for s < T, min after
 *
 * with min = minFactor (default 0). The JSDoc says cosine and linear run "over the T remaining steps" and is
 * silent about later steps (a resumed fit with totalSteps can run past them); there the factor is held at min
 * rather than the cosine rising again or the line going below min. That includes T ≤ 0, when warmup takes the
 * whole fit. It is deliberately not the form of src/nn/schedules.ts, so that comparing the two means something.
 */
export function learningRateFactor(schedule: ScheduleOptions, t: number, totalSteps: number): number {
  if (!Number.isInteger(t) || t < 0) throw new RangeError(`step t must be an integer >= 0, got ${t}`);
  const warmupSteps = schedule.warmupSteps ?? 0;
  if (t < warmupSteps) return (t + 1) / warmupSteps;
  return properFactor(schedule, t - warmupSteps, totalSteps - warmupSteps);
}

/** The schedule without its warmup, at step s (0-based, after warmup) of the T steps that follow warmup. */
function properFactor(schedule: ScheduleOptions, s: number, T: number): number {
  switch (schedule.type) {
    case 'constant':
      return 1;
    case 'step': {
      const gamma = schedule.gamma ?? 0.1;
      // One decay at each of s = stepSize, 2·stepSize, … that has been reached.
      let factor = 1;
      for (let boundary = schedule.stepSize; boundary <= s; boundary += schedule.stepSize) factor *= gamma;
      return factor;
    }
    case 'exponential':
      return Math.exp(s * Math.log(schedule.gamma));
    case 'cosine': {
      const min = schedule.minFactor ?? 0;
      if (s >= T) return min;
      const c = Math.cos((Math.PI * s) / (2 * T));
      return min + (1 - min) * c * c;
    }
    case 'linear': {
      const min = schedule.minFactor ?? 0;
      if (s >= T) return min;
      const done = s / T;
      return 1 - done + done * min;
    }
  }
}
