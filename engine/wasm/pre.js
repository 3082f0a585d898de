// Prepended to the wasm module's glue (inside its factory function).
// Emscripten 3.1.6's ES-module output still calls require() and __dirname
// when it runs under node, and neither exists in an ES module: provide them
// from node's built-in module loader. _scriptDir is the glue's own
// import.meta.url. Browsers never take those code paths.
var require, __dirname;
if (typeof process == 'object' && process.versions && process.versions.node && process.getBuiltinModule) {
  require = function (name) { return process.getBuiltinModule(name); };
  __dirname = decodeURIComponent(new URL('.', _scriptDir).pathname);
  // The glue would otherwise read the .wasm from a file: URL as if a path.
  Module['locateFile'] = Module['locateFile'] || function (path, dir) { return dir + path; };
}
