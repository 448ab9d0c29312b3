/** A short description of a value for error messages: its type and, for arrays, its length. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<number>).length})`;
  if (Array.isArray(value)) return value.length <= 8 ? JSON.stringify(value) : `an array of ${value.length}`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

/** Throws unless `value` is a function or undefined: an optional callback, `name` of `where`'s options. */
export function checkCallback(where: string, name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`${where}: ${name} must be a function; got ${describe(value)}`);
  }
}

/** The device was lost (driver reset, GPU removed, destroyed under the engine, or a simulated loss). */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}

/** A WGSL compilation error, with positions mapped back to shaders/<file>.wgsl:line:column. */
export class ShaderError extends Error {
  override name = 'ShaderError';
}

/** The loss or the parameters stopped being finite; the model holds the last finite checkpoint. */
export class DivergenceError extends Error {
  override name = 'DivergenceError';
  constructor(
    message: string,
    /** Step whose loss was not finite. */
    readonly step: number,
    /** Step of the checkpoint the model was restored to. */
    readonly restoredStep: number,
  ) {
    super(message);
  }
}
