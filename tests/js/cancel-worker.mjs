// A wasm engine in a worker thread, as the extension runs it in a Worker:
// requests come in messages, partials and replies go out, and a shared
// Int32Array flag (set by the main thread) is read at the engine's
// cancellation checkpoints (engine.mjs's isCancelled).
import { parentPort, workerData } from 'node:worker_threads';
import { loadEngine } from './helpers.mjs';

const engine = await loadEngine(workerData.flavour, { threads: workerData.threads });
const flag = new Int32Array(workerData.flag);
parentPort.on('message', (req) => {
  if (req === 'exit') {
    engine.destroy();
    return parentPort.close();
  }
  const reply = engine.request(req, (p) => { parentPort.postMessage({ partial: p.partial, at: performance.timeOrigin + performance.now() }); },
    () => Atomics.load(flag, 0) === 1);
  parentPort.postMessage({ reply, at: performance.timeOrigin + performance.now() });
});
parentPort.postMessage({ ready: true });
