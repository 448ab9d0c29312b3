import { ShaderError } from '../core/errors.js';
import { type BindingKind, KERNELS, type KernelName, kernelFeature } from './kernels.js';
import { shaderSources } from './shaders.gen.js';

interface CompiledModule {
  module: GPUShaderModule;
  /** First line (1-based) of each concatenated file, for mapping compiler positions back. */
  starts: { file: string; line: number }[];
}

/**
 * Shader modules and compute pipelines, made once and cached: modules by file list, pipelines by kernel,
 * entry point and override constants. Modules are compiled and checked when the engine starts, so a WGSL
 * error surfaces there with its file and line rather than as a failed dispatch later.
 */
export class Pipelines {
  private modules = new Map<string, CompiledModule>();
  private layouts = new Map<KernelName, GPUBindGroupLayout>();
  private pipelines = new Map<string, GPUComputePipeline>();

  constructor(
    private readonly device: GPUDevice,
    private readonly sources: Record<string, string> = shaderSources,
  ) {}

  /**
   * Compiles the module of every kernel the device supports, and rejects with a ShaderError naming file:line for
   * any WGSL error.
   */
  async compileAll(): Promise<void> {
    const errors: string[] = [];
    for (const name of Object.keys(KERNELS) as KernelName[]) {
      if (!this.supports(name)) continue;
      const { module, starts } = this.module(name);
      const info = await module.getCompilationInfo();
      for (const msg of info.messages) {
        if (msg.type === 'error') errors.push(this.describe(msg, starts));
      }
    }
    if (errors.length > 0) throw new ShaderError(`WGSL compilation failed:\n${errors.join('\n')}`);
  }

  /** Whether the device has what the kernel's WGSL needs (see KERNELS' `feature`). */
  supports(kernel: KernelName): boolean {
    const feature = kernelFeature(kernel);
    return feature === undefined || this.device.features.has(feature);
  }

  /** The bind group layout shared by every pipeline of a kernel. */
  layout(kernel: KernelName): GPUBindGroupLayout {
    let layout = this.layouts.get(kernel);
    if (!layout) {
      const kinds: readonly BindingKind[] = KERNELS[kernel].bindings;
      layout = this.device.createBindGroupLayout({
        label: kernel,
        entries: kinds.map((kind, binding) => ({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer:
            kind === 'uniform' || kind === 'step'
              ? { type: 'uniform', hasDynamicOffset: kind === 'step' }
              : { type: kind === 'read' ? 'read-only-storage' : 'storage' },
        })),
      });
      this.layouts.set(kernel, layout);
    }
    return layout;
  }

  /** The pipeline of a kernel specialised by override constants (cached). */
  get(kernel: KernelName, constants: Record<string, number> = {}, entryPoint = 'main'): GPUComputePipeline {
    const key = `${kernel}:${entryPoint}:${JSON.stringify(constants)}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      pipeline = this.device.createComputePipeline({
        label: key,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [this.layout(kernel)] }),
        compute: { module: this.module(kernel).module, entryPoint, constants },
      });
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  private module(kernel: KernelName): CompiledModule {
    const files = KERNELS[kernel].modules;
    const key = files.join('+');
    let compiled = this.modules.get(key);
    if (!compiled) {
      const starts: CompiledModule['starts'] = [];
      let line = 1;
      const parts = files.map((file) => {
        const text = this.sources[file];
        if (text === undefined) throw new ShaderError(`missing shader source shaders/${file}.wgsl`);
        const body = text.endsWith('\n') ? text : `${text}\n`;
        starts.push({ file, line });
        line += body.split('\n').length - 1;
        return body;
      });
      const module = this.device.createShaderModule({ label: key, code: parts.join('') });
      compiled = { module, starts };
      this.modules.set(key, compiled);
    }
    return compiled;
  }

  private describe(msg: GPUCompilationMessage, starts: CompiledModule['starts']): string {
    let where = starts[0];
    for (const s of starts) if (s.line <= msg.lineNum) where = s;
    const line = msg.lineNum - where.line + 1;
    const source = (this.sources[where.file] ?? '').split('\n')[line - 1] ?? '';
    return `shaders/${where.file}.wgsl:${line}:${msg.linePos}: ${msg.type}: ${msg.message}\n    ${source.trim()}`;
  }
}
