/**
 * webgrad in Node, on Dawn's own bindings (the npm package `webgpu`, an optional peer dependency: install it
 * beside webgrad to train in Node). Uses the machine's GPU through Vulkan (or Metal, D3D12); where none is
 * usable it falls back to SwiftShader, the software Vulkan that Debian's chromium package ships, so the same code
 * runs on a machine without a GPU.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createEngineFrom, type Engine, type EngineOptions } from './engine.js';
import { runsOnCpu } from './gpu/autotune.js';
import { describeAdapter } from './gpu/device.js';
import type { TunedMatmul, TuningStore } from './gpu/tuning-store.js';

export * from './api.js';

/** Vulkan driver manifests of software renderers, tried when no hardware adapter is found. */
export const SWIFTSHADER_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json'];

/** Node options of createEngine: those of the browser entry, and flags passed to Dawn's create(). */
export type NodeEngineOptions = EngineOptions & { dawnOptions?: string[] };

let saidCpu = false;

/**
 * Creates an engine on the best adapter Dawn finds, else on SwiftShader (saying so once, on stderr). The process
 * can exit once engine.destroy() has been called. Set WEBGRAD_DEBUG=1 to see the native drivers' own messages.
 *
 * On an adapter that runs shaders on the CPU, the first engine times the matmul kernels (a few seconds, said on
 * stderr) and keeps the choice in `matmul.json` under $WEBGRAD_CACHE_DIR, else $XDG_CACHE_HOME/webgrad, else
 * ~/.cache/webgrad; where that cannot be written, the choice lasts for the process.
 */
export async function createEngine(options: NodeEngineOptions = {}): Promise<Engine> {
  const { create, globals } = await importDawn();
  Object.assign(globalThis, globals);
  const store = fileStore(cacheFile());
  if (options.device || options.adapter) return createEngineFrom(undefined, options, { store });
  const icd = process.env.WEBGRAD_VK_ICD ?? SWIFTSHADER_ICDS.find((f) => existsSync(f));
  if (!process.env.WEBGRAD_DEBUG) quietVulkan(icd);
  // dawn.node keeps the process alive while its GPU object is referenced: hold it only until destroy().
  let gpu: GPU | null = create(options.dawnOptions ?? []);
  let adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
  if (!adapter && icd) {
    process.env.VK_ICD_FILENAMES = icd;
    gpu = create(options.dawnOptions ?? []);
    adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
  }
  if (!adapter) {
    gpu = null;
    throw new Error(
      'webgrad/node: no WebGPU adapter. Without a GPU, install a software Vulkan driver and loader: ' +
        'apt-get install chromium libvulkan1 (SwiftShader at /usr/lib/chromium/vk_swiftshader_icd.json).',
    );
  }
  const described = describeAdapter(undefined, adapter);
  if (runsOnCpu(described) && !saidCpu) {
    saidCpu = true;
    process.stderr.write(
      `webgrad: no GPU adapter found; running on ${described.architecture || 'a software renderer'}, on the CPU\n`,
    );
  }
  // The GPU object stays referenced (for a new device after a loss) until destroy().
  const engine = await createEngineFrom(gpu, { ...options, adapter }, { store, onDestroy: () => (gpu = null) });
  return engine;
}

/** @internal Where kernel choices are kept between processes (see createEngine). */
export function cacheFile(env: Record<string, string | undefined> = process.env): string {
  const dir = env.WEBGRAD_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'webgrad');
  return join(dir, 'matmul.json');
}

let saidTiming = false;

/**
 * @internal Kernel choices in one JSON file of key -> choice. Unreadable or malformed, it counts as empty; a failed
 * write is ignored. Written whole to a temporary file and renamed over, so a reader never sees half a file, and
 * processes timing at once at worst each keep their own entry.
 */
export function fileStore(file: string): TuningStore {
  const read = async (): Promise<Record<string, TunedMatmul>> => {
    try {
      const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? (parsed as Record<string, TunedMatmul>)
        : {};
    } catch {
      return {};
    }
  };
  return {
    get: async (key) => (await read())[key],
    set: async (key, value) => {
      const temporary = `${file}.${process.pid}.tmp`;
      try {
        const all = { ...(await read()), [key]: value };
        await mkdir(dirname(file), { recursive: true });
        await writeFile(temporary, `${JSON.stringify(all, null, 1)}\n`);
        await rename(temporary, file);
      } catch {
        // Read-only home, full disk: the choice then lasts for this process only.
      }
    },
    willTime: (names) => {
      if (saidTiming) return;
      saidTiming = true;
      process.stderr.write(
        `webgrad: timing the matmul kernels ${names.join(', ')} on this adapter, once; the choice is kept in ${file}\n`,
      );
    },
  };
}

/** Dawn's bindings, or one line saying how to get them. */
async function importDawn(): Promise<typeof import('webgpu')> {
  try {
    return await import('webgpu');
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error("webgrad/node needs Dawn's WebGPU bindings, the npm package webgpu: npm install webgpu");
  }
}

/**
 * Keeps the Vulkan drivers that Dawn probes from printing what is no failure of ours, where the user has not
 * chosen drivers: libwayland (loaded by Mesa's drivers) says "XDG_RUNTIME_DIR is invalid" when it is unset;
 * Mesa's lavapipe lacks a feature Dawn requires and is rejected with a warning; and with no driver at all the
 * loader complains. So: a runtime directory, lavapipe left out, and SwiftShader offered beside the machine's own
 * drivers (Dawn ranks a GPU above it).
 */
function quietVulkan(icd: string | undefined): void {
  const env = process.env;
  env.XDG_RUNTIME_DIR ??= tmpdir();
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES) return;
  env.VK_LOADER_DRIVERS_DISABLE ??= '*lvp_icd*';
  if (icd) env.VK_ADD_DRIVER_FILES ??= icd;
}
