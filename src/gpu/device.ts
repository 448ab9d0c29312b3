// Asking WebGPU for a device, and describing the adapter it came from.

/** What the engine runs on, for logs and benchmark tables. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** The adapter is a fallback (software) implementation, as the adapter itself reports. */
  fallback: boolean;
}

// Limits raised to the adapter's own values: the spec defaults (128 MiB bindings, 256 MiB buffers) would cap
// batch sizes far below what the hardware holds.
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/**
 * A device with the adapter's own limits (and timestamps and subgroups where offered), for `adapter` or the GPU's
 * best one.
 */
export async function requestDevice(
  gpu: GPU | undefined,
  adapter: GPUAdapter | undefined,
  powerPreference?: GPUPowerPreference,
): Promise<{ device: GPUDevice; adapter: GPUAdapter }> {
  if (!adapter) {
    if (!gpu) throw new Error('webgrad: WebGPU is not available here (no navigator.gpu)');
    adapter = (await gpu.requestAdapter({ powerPreference })) ?? undefined;
    if (!adapter) throw new Error('webgrad: no WebGPU adapter could be found');
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name];
  // Timestamps for timing kernels; subgroups for the 'subgroup' matmul kernel.
  const wanted: GPUFeatureName[] = ['timestamp-query', 'subgroups'];
  const requiredFeatures = wanted.filter((feature) => adapter.features.has(feature));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  return { device, adapter };
}

/** The adapter's description, from the adapter or else the device. */
export function describeAdapter(device: GPUDevice | undefined, adapter?: GPUAdapter): AdapterDescription {
  const info = adapter?.info ?? device?.adapterInfo;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    fallback: Boolean((info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter),
  };
}
