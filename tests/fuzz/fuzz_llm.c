/*
 * fuzz_llm.c - libFuzzer target: any byte string registered as a model
 * must load as a language model (llama, qwen2, qwen3, gemma3 from GGUF:
 * architecture keys, shapes, tensor types and block layouts, tokenizer
 * metadata) or fail with a clear error, and a model that loads must answer
 * "generate", "logits" and "tokenize" requests with a result or an error
 * reply, never crash, leak, or read outside the file.
 */
#include "fuzz_model.h"

static const char *const requests[] = {
    "{\"op\":\"generate\",\"model\":\"m\",\"tokens\":[1,2,3],\"max_tokens\":3,\"temperature\":0}",
    "{\"op\":\"generate\",\"model\":\"m\",\"tokens\":[0],\"max_tokens\":2,\"temperature\":0.8,\"top_k\":5,\"top_p\":0.9,\"seed\":7}",
    "{\"op\":\"generate\",\"model\":\"m\",\"prompt\":\"a b\",\"max_tokens\":2}",
    "{\"op\":\"logits\",\"model\":\"m\",\"tokens\":[4,5]}",
    "{\"op\":\"tokenize\",\"model\":\"m\",\"text\":\"a b\"}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_model_requests(data, size, requests, sizeof requests / sizeof requests[0]);
}
