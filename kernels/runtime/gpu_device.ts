/**
 * GPUDevice creation for the webgpu backend: limits up to the adapter's, `shader-f16` when the
 * adapter has it (tf.js's own factory does not request it), and the hook that turns a program's
 * ENABLE_F16_MARKER line into the `enable f16;` directive WGSL wants at the very top (tf.js puts
 * its own declarations before a program's code).
 */
import { ENABLE_F16_MARKER } from '../dense_webgpu.js';
import { kernelLog } from './log.js';

/** What we report about an adapter. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface GpuDeviceHandle {
  adapter: GPUAdapter;
  device: GPUDevice;
  info: AdapterSummary;
  /** The device was created with shader-f16: dense kernels stage tiles and multiply in f16. */
  f16: boolean;
}

const LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

export function summarizeAdapter(adapter: GPUAdapter): AdapterSummary {
  const i = adapter.info;
  return {
    vendor: i?.vendor ?? '',
    architecture: i?.architecture ?? '',
    device: i?.device ?? '',
    description: i?.description ?? '',
  };
}

/**
 * A device from `adapter` (or a newly requested adapter of `gpu`: an adapter gives one device
 * only); null when no adapter is offered.
 */
export async function createGpuDevice(
  gpu: GPU,
  given?: GPUAdapter,
  allowF16 = true,
): Promise<GpuDeviceHandle | null> {
  const adapter = given ?? (await gpu.requestAdapter({ powerPreference: 'high-performance' }));
  if (!adapter) return null;
  const f16 = allowF16 && adapter.features.has('shader-f16');
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({
    requiredFeatures: f16 ? ['shader-f16'] : [],
    requiredLimits,
  });
  if (f16) hookF16(device);
  device.addEventListener('uncapturederror', (event) => {
    kernelLog(`WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message.split('\n')[0]}`);
  });
  return { adapter, device, info: summarizeAdapter(adapter), f16 };
}

function hookF16(device: GPUDevice): void {
  const create = device.createShaderModule.bind(device);
  device.createShaderModule = (descriptor: GPUShaderModuleDescriptor) =>
    create(
      descriptor.code.includes(ENABLE_F16_MARKER)
        ? { ...descriptor, code: `enable f16;\n${descriptor.code}` }
        : descriptor,
    );
}
