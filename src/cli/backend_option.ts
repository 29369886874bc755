/** The `--backend` option shared by infer and bench. */
import { UsageError } from '../errors.js';

export const BACKENDS = ['auto', 'cpu', 'wasm', 'webgpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export function backendOption(v: unknown, fallback: BackendName): BackendName {
  if (v === undefined) return fallback;
  if (!BACKENDS.includes(v as BackendName)) {
    throw new UsageError(`--backend: expected one of ${BACKENDS.join(', ')}, got '${String(v)}'`);
  }
  return v as BackendName;
}
