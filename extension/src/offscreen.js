// offscreen.js - Chrome's offscreen document: a cross-origin isolated page
// whose only job is to own the engine worker and relay the background's
// messages to it. It outlives the service worker, so loaded models survive
// the service worker being stopped.
import { EngineHost } from './engine-host.js';

const host = new EngineHost();

chrome.runtime.onMessage.addListener((m, sender, sendResponse) => {
  if (m?.to !== 'offscreen') return false;
  const onEvent = (event) => chrome.runtime.sendMessage({ to: 'background', rid: m.rid, event }).catch(() => {});
  host.call(m.msg, onEvent).then(
    (reply) => sendResponse({ reply }),
    (e) => sendResponse({ error: { code: e.code ?? 'engine_failed', message: e.message } }));
  return true; // answers asynchronously
});
