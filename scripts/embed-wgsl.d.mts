import type { Plugin } from 'vite';

/** Bring kernels/wgsl_sources.ts and .d.ts up to date; the paths rewritten (or, with `check`, stale). */
export function embedWgsl(options?: { check?: boolean }): string[];

/** A Vite plugin that runs `embedWgsl()` when a config is resolved (dev server, build, Vitest). */
export function embedWgslPlugin(): Plugin;
