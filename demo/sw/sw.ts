/**
 * The demo's service worker (Workbox, built by vite-plugin-pwa's injectManifest strategy):
 *
 * - precaches the app shell: index.html, the JS and CSS chunks, tfjs-backend-wasm's .wasm
 *   binaries, the bundled vocabulary and answer lists, the icons and the manifest; navigations
 *   are answered with the precached index.html (with its query string), so the page opens
 *   offline after one complete visit;
 * - does NOT cache model shards: `weights/` and any other model URL go to the network untouched
 *   (no route matches them), and the runtime keeps them in its own content-addressed cache;
 * - adds Cross-Origin-Opener-Policy / Cross-Origin-Embedder-Policy to every response it serves
 *   (see coiHeaders), which makes the page cross-origin isolated (SharedArrayBuffer, so the
 *   threaded WASM build) on static hosts that cannot set headers: the technique of
 *   coi-serviceworker, done as a Workbox plugin on our own routes;
 * - waits for the page's "update" button (a SKIP_WAITING message) before a new build takes over.
 */
/// <reference lib="webworker" />
import { clientsClaim, type WorkboxPlugin } from 'workbox-core';
import {
  addPlugins,
  cleanupOutdatedCaches,
  createHandlerBoundToURL,
  precacheAndRoute,
} from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { coiHeaders } from './coi_headers.js';

declare const self: ServiceWorkerGlobalScope & {
  __WB_MANIFEST: (string | { url: string; revision: string | null })[];
};

/** Respond with COOP/COEP (and CORP) added; opaque and error responses pass through. */
const crossOriginIsolation: WorkboxPlugin = {
  handlerWillRespond: async ({ response }) => coiHeaders(response),
};

addPlugins([crossOriginIsolation]);
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// Every navigation in scope (e.g. `./?model=./weights/…&question=…`) gets the precached page,
// except one into a weights/ folder (a model.json opened in a tab). Workbox matches the
// denylist against path + query: only the path part may contain /weights/.
registerRoute(
  new NavigationRoute(createHandlerBoundToURL('index.html'), {
    denylist: [/^[^?]*\/weights\//],
  }),
);

self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});

// The first install takes control at once (no older worker to wait for), so the page can
// reload into cross-origin isolation; later builds wait for SKIP_WAITING.
clientsClaim();
