/**
 * navigator.gpu for Node from the `webgpu` package (Dawn). Dawn's globals (GPUBufferUsage,
 * GPUBuffer …) are installed on globalThis since tf.js's webgpu backend uses them. When no
 * Vulkan driver is configured (neither VK_ICD_FILENAMES nor VK_DRIVER_FILES set) and the first
 * try finds no adapter, Chromium's SwiftShader ICD is tried if it is installed.
 */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

export interface NodeGpu {
  gpu: GPU;
  adapter: GPUAdapter;
  /** How the adapter was found, for the selection's reason. */
  note: string;
}

export function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

/** Make `gpu` visible as navigator.gpu (Node ≥ 21 has a read-only navigator getter). */
export function installNavigatorGpu(gpu: GPU | undefined): void {
  const nav = (globalThis as { navigator?: object }).navigator ?? {};
  const value = Object.assign(Object.create(Object.getPrototypeOf(nav) as object), nav, { gpu });
  Object.defineProperty(globalThis, 'navigator', { value, configurable: true, writable: true });
}

export async function nodeGpu(): Promise<NodeGpu | { error: string }> {
  let dawn: DawnModule;
  try {
    const name = 'webgpu';
    dawn = (await import(/* @vite-ignore */ name)) as DawnModule;
  } catch (e) {
    return {
      error: `the 'webgpu' package (Dawn for Node) could not be loaded: ${(e as Error).message}`,
    };
  }
  Object.assign(globalThis, dawn.globals);
  // The Vulkan loader complains on every start without it; any writable folder will do.
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
  let gpu = dawn.create([]);
  let adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter) return { gpu, adapter, note: 'Dawn (webgpu package)' };
  const configured = process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES;
  const fsName = 'node:fs';
  const { existsSync } = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs');
  if (configured || !existsSync(SWIFTSHADER_ICD)) {
    return {
      error:
        'Dawn found no WebGPU adapter' +
        (configured
          ? ` with the Vulkan driver set by VK_ICD_FILENAMES/VK_DRIVER_FILES (${configured})`
          : ' (no Vulkan driver; install libvulkan1 and a driver, or chromium for SwiftShader)'),
    };
  }
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  gpu = dawn.create([]);
  adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter) {
    return {
      gpu,
      adapter,
      note: `Dawn over SwiftShader (set VK_ICD_FILENAMES=${SWIFTSHADER_ICD})`,
    };
  }
  delete process.env.VK_ICD_FILENAMES;
  return { error: `Dawn found no WebGPU adapter, SwiftShader (${SWIFTSHADER_ICD}) included` };
}
