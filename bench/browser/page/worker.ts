/** Dedicated worker: runs one EngineRequest (see engine.ts) and posts its result or error. */
import { runEngine, type EngineRequest } from './engine.js';

self.onmessage = async (e: MessageEvent<EngineRequest>) => {
  try {
    self.postMessage({ ok: true, result: await runEngine(e.data) });
  } catch (err) {
    const error = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
    self.postMessage({ ok: false, error });
  }
};
