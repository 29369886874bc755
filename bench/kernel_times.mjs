// tf.profile's kernels summed by name (for the profiling scripts in bench/).

/**
 * @param {{ kernels: { name: string, kernelTimeMs: number }[] }} profile what tf.profile returned
 * @returns {{ byKernel: Map<string, { ms: number, calls: number }>, totalMs: number }}
 */
export function kernelTimes(profile) {
  const byKernel = new Map();
  for (const k of profile.kernels) {
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += k.kernelTimeMs;
    e.calls++;
    byKernel.set(k.name, e);
  }
  const totalMs = [...byKernel.values()].reduce((a, b) => a + b.ms, 0);
  return { byKernel, totalMs };
}
