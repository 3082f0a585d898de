// Shared by the node tests: paths and engine loading for both wasm builds.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { SottoEngine } from '../../engine/wasm/engine.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const out = path.join(root, 'out');
export const nativeCli = path.join(out, 'native/engine/sotto');

export const flavours = {
  'wasm-simd': path.join(out, 'wasm/engine/sotto.mjs'),
  'wasm-simd-threads': path.join(out, 'wasm-mt/engine/sotto.mjs'),
};

export async function loadEngine(flavour, options = {}) {
  const { default: factory } = await import(flavours[flavour]);
  return SottoEngine.create(factory, options);
}
