/*
 * fuzz_encoder.c - libFuzzer target: any byte string registered as a model
 * must load as a BERT-family encoder or fail with a clear error, and a
 * model that loads must answer "embed", "classify" and "tokenize" requests
 * (on token ids and on text) with a result or an error reply, never crash,
 * leak, or read outside the file: tensor shapes, types, label arrays and
 * tokenizer metadata all come from the file.
 */
#include "fuzz_model.h"

static const char *const requests[] = {
    "{\"op\":\"embed\",\"model\":\"m\",\"ids\":[[0,1,2,3],[5]],\"pooling\":\"mean\"}",
    "{\"op\":\"embed\",\"model\":\"m\",\"ids\":[[1,2]],\"pooling\":\"cls\",\"normalize\":false}",
    "{\"op\":\"embed\",\"model\":\"m\",\"texts\":[\"a b c\",\"\"]}",
    "{\"op\":\"classify\",\"model\":\"m\",\"ids\":[1,2,3],\"type_ids\":[0,0,1]}",
    "{\"op\":\"classify\",\"model\":\"m\",\"text\":\"x y\",\"pair\":\"z\"}",
    "{\"op\":\"classify\",\"model\":\"m\",\"text\":\"x\",\"labels\":[\"p\",\"q\"],\"multi_label\":true}",
    "{\"op\":\"tokenize\",\"model\":\"m\",\"text\":\"a b\",\"pair\":\"c\"}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_model_requests(data, size, requests, sizeof requests / sizeof requests[0]);
}
