/**
 * webgrad in Node, on Dawn's own bindings (the npm package `webgpu`). Uses the machine's GPU through Vulkan
 * (or Metal, D3D12); where none is usable it falls back to SwiftShader, the software Vulkan that Debian's
 * chromium package ships, so the same code runs on a machine without a GPU.
 */
import { existsSync } from 'node:fs';
import { createEngineFrom, type Engine, type EngineOptions } from './engine.js';

export * from './api.js';

/** Vulkan driver manifests of software renderers, tried in order when no hardware adapter is found. */
export const SWIFTSHADER_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json'];

/**
 * Creates an engine on the best adapter Dawn finds, else on SwiftShader. The process can exit once
 * engine.destroy() has been called.
 */
export async function createEngine(options: EngineOptions & { dawnOptions?: string[] } = {}): Promise<Engine> {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  if (options.device || options.adapter) return createEngineFrom(undefined, options);
  // dawn.node keeps the process alive while its GPU object is referenced: hold it only until destroy().
  let gpu: GPU | null = create(options.dawnOptions ?? []);
  let adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
  if (!adapter) {
    const icd = process.env.WEBGRAD_VK_ICD ?? SWIFTSHADER_ICDS.find((f) => existsSync(f));
    if (icd) {
      process.env.VK_ICD_FILENAMES = icd;
      gpu = create(options.dawnOptions ?? []);
      adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
    }
  }
  if (!adapter) {
    gpu = null;
    throw new Error(
      'webgrad/node: no WebGPU adapter. Without a GPU, install a software Vulkan driver and loader: ' +
        'apt-get install chromium libvulkan1 (SwiftShader at /usr/lib/chromium/vk_swiftshader_icd.json).',
    );
  }
  // The GPU object stays referenced (for a new device after a loss) until destroy().
  return createEngineFrom(gpu, { ...options, adapter }, () => {
    gpu = null;
  });
}
