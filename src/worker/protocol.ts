import { DeviceLostError, DivergenceError, ShaderError } from '../core/errors.js';

/**
 * The messages between a page's Trainer (trainer.ts) and the worker that trains (host.ts): requests with an id,
 * answered once by a reply with the same id; events (steps, epochs) that a running fit sends on the way.
 */

/** A request from the page, answered by a Reply with the same id. */
export interface Request {
  id: number;
  op: string;
  args: unknown[];
}

/** The answer to a request: its value, or the error it threw (see toWire). */
export type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

/**
 * Something a running request reports before it is answered: a step or an epoch of a fit; or, whenever it happens,
 * that the worker's engine is about to time its kernels (the id of the init request).
 */
export interface Event {
  id: number;
  event: 'step' | 'epoch' | 'timing';
  info: unknown;
}

/** An error as it crosses between threads: its class by name, its message, and the fields its class adds. */
export interface WireError {
  name: string;
  message: string;
  step?: number;
  restoredStep?: number;
}

/** An error as a message can carry it. */
export function toWire(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const wire: WireError = { name: error.name, message: error.message };
  if (error instanceof DivergenceError) Object.assign(wire, { step: error.step, restoredStep: error.restoredStep });
  return wire;
}

/** The error again, of the same class where webgrad or the language defines it, with the same message. */
export function fromWire(wire: WireError): Error {
  switch (wire.name) {
    case 'TypeError':
      return new TypeError(wire.message);
    case 'RangeError':
      return new RangeError(wire.message);
    case 'DivergenceError':
      return new DivergenceError(wire.message, wire.step ?? -1, wire.restoredStep ?? -1);
    case 'DeviceLostError':
      return new DeviceLostError(wire.message);
    case 'ShaderError':
      return new ShaderError(wire.message);
    default: {
      const error = new Error(wire.message);
      error.name = wire.name;
      return error;
    }
  }
}
