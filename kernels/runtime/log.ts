/** Where the kernels and the backend selection report fallbacks and device events. */

export type KernelLogger = (message: string) => void;

let sink: KernelLogger = (message) => console.warn(`[lxmert] ${message}`);

/** Route kernel/backend messages (default: console.warn with an `[lxmert]` prefix). */
export function setKernelLogger(logger: KernelLogger): void {
  sink = logger;
}

export function kernelLog(message: string): void {
  sink(message);
}
