// offscreen.js - Chrome's offscreen document: a cross-origin isolated page
// whose only job is to own the engine worker and serve the background's
// engine messages (platform.js relays them). It outlives the service
// worker, so loaded models survive the service worker being stopped; being
// isolated, it can share memory with the worker, so cancel takes effect at
// the engine's next checkpoint. Two engines: the single-threaded build for
// the text tasks, started first and quickly, and the threaded build for the
// rest (engine-worker.js).
import { serveOffscreen } from './platform.js';
import { EngineHost } from './engine-host.js';

serveOffscreen({ light: new EngineHost({ light: true }), full: new EngineHost() });
