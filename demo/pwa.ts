/**
 * The installable app: service worker registration (vite-plugin-pwa's registerSW), the "update
 * available" prompt, and cross-origin isolation on hosts that cannot send COOP/COEP: the service
 * worker adds them to what it serves (sw/coi_headers.ts), so the first visit that installs it
 * reloads once to come back isolated (threaded WASM). A session flag stops a reload loop where
 * isolation cannot be had.
 */
/// <reference types="vite-plugin-pwa/vanillajs" />
import { registerSW } from 'virtual:pwa-register';

const RELOADED = 'lxmert-demo:coi-reload';
/** Longest wait for the first install before the page goes on without isolation. */
const INSTALL_TIMEOUT_MS = 60_000;

export interface PwaHooks {
  /** A new build is waiting; call `apply` to switch to it (reloads the page). */
  onUpdate(apply: () => Promise<void>): void;
  onOfflineReady(): void;
}

/**
 * Register the service worker. Resolves to true when the page is about to reload into cross-
 * origin isolation (the caller should not start work), false otherwise.
 */
export async function startPwa(hooks: PwaHooks): Promise<boolean> {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return false;
  let registrationFailed: () => void = () => undefined;
  const failed = new Promise<boolean>((resolve) => (registrationFailed = () => resolve(false)));
  const update = registerSW({
    immediate: true,
    // Only a worker that is really waiting is an update (a first install can be reported as an
    // "external" one when the page reloads into isolation while it activates).
    onNeedRefresh: () =>
      void navigator.serviceWorker.getRegistration().then((r) => {
        if (r?.waiting) hooks.onUpdate(() => update(true));
      }),
    onOfflineReady: hooks.onOfflineReady,
    onRegisterError: (e: unknown) => {
      console.warn('service worker registration failed', e);
      registrationFailed();
    },
  });
  if (crossOriginIsolated) {
    sessionStorage.removeItem(RELOADED);
    return false;
  }
  if (sessionStorage.getItem(RELOADED)) return false; // tried once: carry on single-threaded
  // The first install precaches the app (a few MB) before it takes control: wait for that.
  const controlled =
    navigator.serviceWorker.controller !== null ||
    (await Promise.race([
      new Promise<boolean>((resolve) =>
        navigator.serviceWorker.addEventListener('controllerchange', () => resolve(true), {
          once: true,
        }),
      ),
      failed,
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), INSTALL_TIMEOUT_MS)),
    ]));
  if (!controlled) return false;
  sessionStorage.setItem(RELOADED, '1');
  location.reload();
  return true;
}
