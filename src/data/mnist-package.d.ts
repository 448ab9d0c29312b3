// Typing the package by hand keeps tsc from resolving its JSON data: with resolveJsonModule, importing the
// 21 MB of digit files directly makes every type check parse them (about a minute and 2 GB).
declare module 'mnist' {
  /** One digit's samples, 28 × 28 pixels in [0, 1] each, back to back. */
  interface MnistDigit {
    id: number;
    raw: number[];
    length: number;
  }
  const mnist: readonly MnistDigit[];
  export default mnist;
}
