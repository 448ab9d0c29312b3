// Vite's `?raw` imports: the file's text as a string (used for the WGSL kernels).
declare module '*.wgsl?raw' {
  const source: string;
  export default source;
}
