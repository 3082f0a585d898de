/*
 * exports.c - the wasm module's entry: the engine's public functions are
 * exported by name (see engine/CMakeLists.txt); this adds what only the
 * JavaScript side needs.
 */
#include <emscripten.h>
#include <stddef.h>

#include "sotto.h"

/* Current size of the wasm heap, for the extension's memory budget. */
EMSCRIPTEN_KEEPALIVE size_t sotto_wasm_heap_bytes(void) {
  return (size_t)__builtin_wasm_memory_size(0) * 65536u;
}
