/**
 * A Vite (Rollup/Rolldown) plugin that makes tfjs-backend-wasm's threaded build survive
 * bundling and minification.
 *
 * Why: tfjs-backend-wasm starts its pthread workers with the Emscripten factory's own source
 * text: `new Blob(['var WasmBackendModuleThreadedSimd = ' + wasmFactoryThreadedSimd.toString()])`
 * is what each worker `importScripts` before calling the factory. In
 * wasm-out/tfjs-backend-wasm-threaded-simd.js that factory is a function returned from an arrow
 * IIFE that first declares `var _scriptDir`, and the factory reads `_scriptDir` from that
 * closure (`typeof _scriptDir !== "undefined" && _scriptDir`). A minifier renames the closure's
 * variable (to `e`) and, knowing it is declared, drops the `typeof` guard; the text the worker
 * evaluates then reads an `e` that exists nowhere in the worker: `ReferenceError: e is not
 * defined`, the worker dies before reporting back, and `tf.setBackend('wasm')` never settles.
 * setWasmPaths / setThreadsCount cannot help (the blob is built from the function whatever the
 * paths), and the `.worker.js` tfjs ships (wasmWorkerContents) is fine: it is the main script
 * it imports that is broken.
 *
 * The fix: declare `_scriptDir` inside the factory instead of around it, so the function's text
 * is self-contained (a minifier renames the variable consistently inside it). Same value: the
 * factory runs when tfjs initialises, after the module is evaluated, and module scripts have no
 * document.currentScript either way.
 */

/** The parts of a Vite plugin this needs (no dependency on vite's types). */
export interface TransformPlugin {
  name: string;
  enforce: 'pre';
  transform(code: string, id: string): { code: string; map: null } | null;
}

const TARGET = /tfjs-backend-wasm[\\/]wasm-out[\\/]tfjs-backend-wasm-threaded-simd\.js$/;
const SCRIPT_DIR =
  /\n\s*var _scriptDir = typeof document !== 'undefined' && document\.currentScript \? document\.currentScript\.src : undefined;\n\s*if \(typeof __filename !== 'undefined'\) _scriptDir = _scriptDir \|\| __filename;\n(\s*return \(\nfunction\(WasmBackendModuleThreadedSimd\) \{\n)/;

/** Rewrite the threaded factory so its text runs on its own (see above). */
export function selfContainedWasmFactory(code: string): string | null {
  const m = SCRIPT_DIR.exec(code);
  if (!m) return null;
  const inside =
    "  var _scriptDir = typeof document !== 'undefined' && document.currentScript ? " +
    'document.currentScript.src : undefined;\n' +
    "  if (typeof __filename !== 'undefined') _scriptDir = _scriptDir || __filename;\n";
  return code.slice(0, m.index) + '\n' + m[1] + inside + code.slice(m.index + m[0].length);
}

/**
 * `plugins: [tfjsWasmThreads()]` in vite.config.ts. Fails the build loudly if the tfjs file
 * changed shape (a silent no-op would bring the hang back).
 */
export function tfjsWasmThreads(): TransformPlugin {
  return {
    name: 'lxmert-web:tfjs-wasm-threads',
    enforce: 'pre',
    transform(code, id) {
      if (!TARGET.test(id.split('?')[0])) return null;
      const out = selfContainedWasmFactory(code);
      if (out === null) {
        throw new Error(
          `${id}: the _scriptDir declaration was not found; tfjs-backend-wasm changed, ` +
            'update src/app/vite_plugin.ts',
        );
      }
      return { code: out, map: null };
    },
  };
}
