/**
 * Reading and writing the safetensors format (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length N, N bytes of UTF-8 JSON describing the tensors, then the raw little-endian data.
 * Files are treated as untrusted: everything is validated before any allocation sized by the file's contents,
 * and every refusal is a RangeError (a value out of range) or a TypeError (a value of the wrong kind).
 */

/** One named float32 tensor; `data` holds product(shape) values in row-major order. */
export interface TensorEntry {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** The reference implementation's limit; a larger header is far more likely an attack than a model. */
const DEFAULT_MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';
const ENTRY_FIELDS = ['data_offsets', 'dtype', 'shape'];
// Typed arrays use the host's byte order; the format is little-endian, so big-endian hosts need a swap.
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
// With the u flag only unpaired surrogates match, and those cannot be written as UTF-8.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function fail(Kind: RangeErrorConstructor | TypeErrorConstructor, message: string): never {
  throw new Kind('safetensors: ' + message);
}

/**
 * @internal JSON for messages, shortened so a hostile value cannot produce a megabyte-long error. Never throws:
 * a value nested too deeply for JSON.stringify (and String, which recurses the same way), as JSON.parse happily
 * builds from a header of ten thousand brackets, is described by its kind instead.
 */
export function show(value: unknown): string {
  let text: string;
  try {
    // Numbers by String, as JSON would write NaN and Infinity as null.
    text = value === undefined || typeof value === 'number' ? String(value) : JSON.stringify(value);
  } catch {
    text = Array.isArray(value) ? 'an array nested too deeply to show' : `${typeof value} that cannot be shown`;
  }
  if (text === undefined) text = typeof value; // functions and symbols, which JSON leaves out
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}

/** An object literal or JSON object: not an array, a Map, a class instance or anything else with a prototype. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isIndex(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** Element count; a zero dimension wins even over a product that overflowed to Infinity. */
function elements(shape: number[]): number {
  // Beyond 2^53 the float product is inexact but still too large to match any length, so no BigInt is needed.
  return shape.includes(0) ? 0 : shape.reduce((a, b) => a * b, 1);
}

function checkString(value: string, what: string): void {
  if (LONE_SURROGATE.test(value)) fail(TypeError, `${what} ${show(value)} is not valid Unicode (unpaired surrogate)`);
}

/** Checks one metadata pair, for writing and reading alike. */
function checkMetadataItem(key: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') fail(TypeError, `metadata ${show(key)} must be a string, got ${show(value)}`);
  checkString(key, 'metadata key');
  checkString(value, `metadata ${show(key)} value`);
}

/** The header's `__metadata__` entry, as JSON text. */
function encodeMetadata(metadata: Record<string, string>): string {
  if (!isPlainObject(metadata)) fail(TypeError, `metadata must be an object of strings, got ${show(metadata)}`);
  const fields: string[] = [];
  for (const key of Object.keys(metadata)) {
    const value = metadata[key];
    checkMetadataItem(key, value);
    fields.push(JSON.stringify(key) + ':' + JSON.stringify(value));
  }
  return JSON.stringify(METADATA_KEY) + ':{' + fields.join(',') + '}';
}

/** Checks one tensor to be written; `names` holds the names seen so far and gains this one. */
function checkTensor(tensor: TensorEntry, names: Set<string>): void {
  if (typeof tensor !== 'object' || tensor === null) {
    fail(TypeError, `each tensor must be an object { name, shape, data }, got ${show(tensor)}`);
  }
  const { name, shape, data } = tensor;
  if (typeof name !== 'string') fail(TypeError, `tensor name must be a string, got ${show(name)}`);
  if (name === METADATA_KEY) fail(RangeError, `a tensor cannot be named ${show(METADATA_KEY)}`);
  if (names.has(name)) fail(RangeError, `tensor name ${show(name)} is used twice`);
  checkString(name, 'tensor name');
  names.add(name);
  if (!(data instanceof Float32Array)) fail(TypeError, `tensor ${show(name)} data must be a Float32Array`);
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    fail(TypeError, `tensor ${show(name)} shape must be an array of non-negative integers, got ${show(shape)}`);
  }
  const size = elements(shape);
  if (size !== data.length) {
    fail(RangeError, `tensor ${show(name)} has shape ${show(shape)} (${size} values) but ${data.length} values`);
  }
}

/** Checks the tensors and writes their header entries, laying their data out one after another. */
function encodeTensorEntries(tensors: TensorEntry[]): { entries: string[]; dataLength: number } {
  if (!Array.isArray(tensors))
    fail(TypeError, `tensors must be an array of { name, shape, data }, got ${show(tensors)}`);
  const names = new Set<string>();
  const entries: string[] = [];
  let offset = 0;
  for (const tensor of tensors) {
    checkTensor(tensor, names);
    const { name, shape, data } = tensor;
    const end = offset + data.byteLength;
    // Key order is kept by writing the JSON by hand: an object would move integer-like names to the front.
    entries.push(JSON.stringify(name) + ':' + JSON.stringify({ dtype: 'F32', shape, data_offsets: [offset, end] }));
    offset = end;
  }
  return { entries, dataLength: offset };
}

/** The header as UTF-8, padded with spaces to a multiple of 8 bytes. */
function encodeHeader(entries: string[]): Uint8Array {
  const header = new TextEncoder().encode('{' + entries.join(',') + '}');
  const padded = Math.ceil(header.length / 8) * 8;
  if (padded === header.length) return header;
  const withSpaces = new Uint8Array(padded).fill(0x20);
  withSpaces.set(header);
  return withSpaces;
}

/** Lays out the file: the header length, the header, then each tensor's data as little-endian float32. */
function assemble(header: Uint8Array, tensors: TensorEntry[], dataLength: number): Uint8Array {
  const out = new Uint8Array(8 + header.length + dataLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, header.length, true);
  view.setUint32(4, Math.floor(header.length / 2 ** 32), true);
  out.set(header, 8);
  let at = 8 + header.length;
  for (const { data } of tensors) {
    if (HOST_LITTLE_ENDIAN) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    } else {
      for (let i = 0; i < data.length; i++) view.setFloat32(at + 4 * i, data[i], true);
    }
    at += data.byteLength;
  }
  return out;
}

/**
 * Encodes tensors (as float32, in the given order) and optional string metadata into a safetensors file. The
 * header is padded with spaces to a multiple of 8 bytes, as the reference writer does, so the data is aligned.
 */
export function encodeSafetensors(tensors: TensorEntry[], metadata?: Record<string, string>): Uint8Array {
  const metadataEntry = metadata === undefined ? [] : [encodeMetadata(metadata)];
  const { entries, dataLength } = encodeTensorEntries(tensors);
  const header = encodeHeader([...metadataEntry, ...entries]);
  return assemble(header, tensors, dataLength);
}

interface Span {
  name: string;
  shape: number[];
  begin: number;
  end: number;
}

/** Checks one header entry and returns where its data lies, relative to the data section. */
function readEntry(name: string, entry: unknown, dataLength: number): Span {
  const what = `tensor ${show(name)}`;
  checkString(name, 'tensor name');
  if (!isPlainObject(entry)) {
    fail(TypeError, `${what} must be an object with dtype, shape and data_offsets, got ${show(entry)}`);
  }
  const keys = Object.keys(entry).sort();
  if (keys.length !== ENTRY_FIELDS.length || keys.some((key, i) => key !== ENTRY_FIELDS[i])) {
    fail(TypeError, `${what} must have exactly the fields dtype, shape and data_offsets, got ${show(keys)}`);
  }
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string') fail(TypeError, `${what} dtype must be a string, got ${show(dtype)}`);
  if (dtype !== 'F32') fail(RangeError, `${what} has dtype ${show(dtype)}, but only "F32" is supported`);
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    fail(TypeError, `${what} shape must be an array of non-negative integers, got ${show(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    fail(TypeError, `${what} data_offsets must be [begin, end] with non-negative integers, got ${show(offsets)}`);
  }
  const [begin, end] = offsets as number[];
  if (begin > end || end > dataLength) {
    fail(RangeError, `${what} has data_offsets [${begin},${end}], outside the ${dataLength}-byte data section`);
  }
  const bytes = elements(shape as number[]) * 4;
  if (bytes !== end - begin) {
    fail(RangeError, `${what} has shape ${show(shape)} (${bytes} bytes) but data_offsets span ${end - begin} bytes`);
  }
  return { name, shape: shape as number[], begin, end };
}

/** Reads the 8-byte header length and checks it against the bytes that follow and against the limit. */
function readHeaderLength(bytes: Uint8Array, maxHeaderBytes: number): number {
  if (bytes.length < 8) fail(RangeError, `expected at least 8 bytes for the header length, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  const available = bytes.length - 8;
  // Checking the high word first keeps the length exact: any nonzero high word is already out of range.
  const headerLength = high === 0 ? low : Number.POSITIVE_INFINITY;
  if (headerLength > available) {
    const claimed = high === 0 ? String(low) : String((BigInt(high) << 32n) | BigInt(low));
    fail(RangeError, `header length ${claimed} exceeds the ${available} bytes after the length field`);
  }
  if (headerLength > maxHeaderBytes) {
    fail(RangeError, `header length ${headerLength} exceeds maxHeaderBytes ${maxHeaderBytes}`);
  }
  return headerLength;
}

/** Decodes the header's UTF-8 and parses its JSON, which must be an object. */
function parseHeader(raw: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    // ignoreBOM keeps a byte order mark in the text, where JSON.parse refuses it as the reference does.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    fail(TypeError, 'header is not valid UTF-8');
  }
  // The reference refuses anything else here too, including leading whitespace.
  if (!text.startsWith('{')) fail(TypeError, `header must start with "{", got ${show(text.slice(0, 20))}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    fail(TypeError, `header is not valid JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(header)) fail(TypeError, `header must be a JSON object, got ${show(header)}`);
  return header;
}

/** Copies the header's `__metadata__` strings into `metadata`. */
function readMetadata(value: unknown, metadata: Record<string, string>): void {
  if (!isPlainObject(value)) fail(TypeError, `${METADATA_KEY} must be an object of strings, got ${show(value)}`);
  for (const key of Object.keys(value)) {
    const item = value[key];
    checkMetadataItem(key, item);
    metadata[key] = item;
  }
}

/** Checks every header entry: the tensors' spans, in header order, and the metadata. */
function readHeaderEntries(
  header: Record<string, unknown>,
  dataLength: number,
): { spans: Span[]; metadata: Record<string, string> } {
  // Null-prototype object: keys like "__proto__" become ordinary own properties.
  const metadata: Record<string, string> = Object.create(null);
  const spans: Span[] = [];
  // JSON.parse defines "__proto__" as an own key, so Object.keys sees every key the file wrote.
  for (const name of Object.keys(header)) {
    const value = header[name];
    if (name === METADATA_KEY) readMetadata(value, metadata);
    else spans.push(readEntry(name, value, dataLength));
  }
  return { spans, metadata };
}

/** Sorts the spans into data order and checks that they tile the data section exactly. */
function checkTiling(spans: Span[], dataLength: number): void {
  // The reference requires the tensors to tile the data section exactly, which also rules out aliasing.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const { name, begin, end } of spans) {
    if (begin !== expected) {
      const problem = begin < expected ? 'overlaps the previous tensor' : 'leaves a gap';
      fail(RangeError, `tensor ${show(name)} starts at byte ${begin}, expected ${expected} (it ${problem})`);
    }
    expected = end;
  }
  if (expected !== dataLength) {
    fail(RangeError, `tensors cover ${expected} bytes but the data section has ${dataLength} bytes`);
  }
}

/** Copies one tensor's data out of the data section (which starts at `dataStart`) into its own Float32Array. */
function readTensor(bytes: Uint8Array, dataStart: number, { name, shape, begin, end }: Span): TensorEntry {
  // slice() copies into a fresh, aligned buffer, whatever the alignment of the data in the file.
  const raw = bytes.slice(dataStart + begin, dataStart + end);
  const data = new Float32Array(raw.buffer);
  if (!HOST_LITTLE_ENDIAN) {
    const le = new DataView(raw.buffer);
    for (let i = 0; i < data.length; i++) data[i] = le.getFloat32(4 * i, true);
  }
  return { name, shape: shape.slice(), data };
}

/**
 * Decodes a safetensors file holding only F32 tensors. Tensors come back in data order (header order between
 * empty tensors at the same offset), each copied into its own Float32Array. Throws a RangeError or TypeError,
 * naming what was expected and what was found, for anything that is not a well-formed file.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  options?: { maxHeaderBytes?: number },
): { tensors: TensorEntry[]; metadata: Record<string, string> } {
  if (!(bytes instanceof Uint8Array)) fail(TypeError, `expected a Uint8Array, got ${show(bytes)}`);
  const maxHeaderBytes = options?.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (!isIndex(maxHeaderBytes))
    fail(TypeError, `maxHeaderBytes must be a non-negative integer, got ${show(maxHeaderBytes)}`);
  const headerLength = readHeaderLength(bytes, maxHeaderBytes);
  const header = parseHeader(bytes.subarray(8, 8 + headerLength));
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const { spans, metadata } = readHeaderEntries(header, dataLength);
  checkTiling(spans, dataLength);
  const tensors = spans.map((span) => readTensor(bytes, dataStart, span));
  return { tensors, metadata };
}
