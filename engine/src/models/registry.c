/*
 * registry.c - sotto_model_add and sotto_model_add_file: from a file's
 * bytes to a model in the context's table. The format is recognised from
 * the content (formats/registry.c); each format names the loader of the
 * model family that reads it.
 */
#include <stdlib.h>
#include <string.h>

#ifndef __EMSCRIPTEN__
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "formats/formats.h"
#include "formats/gguf.h"
#include "models.h"
#include "models/bert.h"
#include "models/cards.h"
#include "models/fasttext.h"
#include "models/llama.h"

/* GGUF files name their family in general.architecture. */
static const struct {
  const char *arch;
  int (*load)(sotto_model *m, sotto_gguf *g, sotto_error *err);
} gguf_families[] = {
    {"llama", sotto_llama_load},
    {"qwen2", sotto_llama_load},
    {"qwen3", sotto_llama_load},
    {"gemma3", sotto_llama_load},
    {"bert", sotto_bert_load},
};

static void release_malloc(sotto_blob *b);

static int gguf_load(sotto_model *m, sotto_error *err) {
  /* models use their bytes in place and may rearrange them (weights packed
   * for the kernels): a caller's buffer (SOTTO_MODEL_COPY) is copied first */
  if (!m->file.release) {
    uint8_t *copy = malloc(m->file.size);
    if (!copy) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory for the model");
    memcpy(copy, m->file.data, m->file.size);
    m->file = (sotto_blob){copy, m->file.size, release_malloc, copy};
  }
  sotto_gguf *g = sotto_gguf_open(m->file.data, m->file.size, err);
  if (!g) return -1;
  sotto_gguf_string a = {0};
  if (sotto_gguf_get_str(g, "general.architecture", &a, err) != 1) {
    if (!err->status) sotto_error_set(err, SOTTO_BAD_MODEL, "GGUF without general.architecture");
    sotto_gguf_close(g);
    return -1;
  }
  for (size_t i = 0; i < sizeof gguf_families / sizeof gguf_families[0]; i++)
    if (strlen(gguf_families[i].arch) == a.len && memcmp(gguf_families[i].arch, a.data, a.len) == 0) {
      if (gguf_families[i].load(m, g, err) == 0) return 0;
      sotto_gguf_close(g);
      return -1;
    }
  sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "GGUF architecture \"%.*s\" is not supported",
                  (int)(a.len > 40 ? 40 : a.len), a.data);
  sotto_gguf_close(g);
  return -1;
}

static const struct {
  const char *format;
  sotto_model_loader load;
} loaders[] = {
    {"fasttext", sotto_fasttext_load},
    {"gguf", gguf_load},
};

static void release_malloc(sotto_blob *b) { free(b->owner); }

static sotto_status add_blob(sotto_context *ctx, const char *id, sotto_blob blob,
                             sotto_error *err) {
  sotto_error e = {0};
  if (!err) err = &e;
  if (!ctx || !id || !*id || strlen(id) >= SOTTO_MODEL_ID_BYTES) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "model id must be 1 to %d characters",
                    SOTTO_MODEL_ID_BYTES - 1);
    goto fail;
  }
  const sotto_format *f = sotto_format_find(blob.data, blob.size);
  sotto_model_loader load = NULL;
  for (size_t i = 0; f && i < sizeof loaders / sizeof loaders[0]; i++)
    if (strcmp(loaders[i].format, f->name) == 0) load = loaders[i].load;
  if (f && !load) {
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                    "model \"%.100s\" is a %s file, but no model family in this build runs it",
                    id, f->name);
    goto fail;
  }
  if (!load) {
    sotto_error_set(err, SOTTO_UNSUPPORTED_FORMAT,
                    "model \"%.100s\" is not in a format sotto reads (fastText .bin/.ftz, GGUF)",
                    id);
    goto fail;
  }
  if (ctx->memory_budget && blob.size > ctx->memory_budget) {
    sotto_error_set(err, SOTTO_OVER_BUDGET, "model of %zu bytes exceeds the memory budget of %zu",
                    blob.size, ctx->memory_budget);
    goto fail;
  }
  sotto_model m = {0};
  memcpy(m.id, id, strlen(id) + 1);
  m.format = f->name;
  m.card = sotto_model_card_find(blob.data, blob.size); /* before a loader lets go of the bytes */
  m.file = blob;
  if (load(&m, err) != 0) {
    sotto_model_free(&m);
    return err->status;
  }
  return sotto_model_insert(ctx, &m, err);
fail:
  sotto_blob_release(&blob);
  return err->status;
}

sotto_status sotto_model_add(sotto_context *ctx, const char *id, void *data, size_t size,
                             unsigned flags, sotto_error *err) {
  sotto_blob blob = {data, size, NULL, NULL};
  if (flags & SOTTO_MODEL_TAKE) blob.release = release_malloc, blob.owner = data;
  return add_blob(ctx, id, blob, err);
}

/* ---- what a file will need, before it is loaded ---- */

/* Models that copy what they need from the file (fastText) may hold about
 * the file's size again while loading. */
#define COPYING_LOAD_FACTOR 2

sotto_status sotto_model_estimate(const void *data, size_t size, uint64_t file_size, char **json,
                                  sotto_error *err) {
  sotto_error e = {0};
  if (!err) err = &e;
  *json = NULL;
  if (!data || size > file_size) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "the bytes given are not a prefix of the file");
    return err->status;
  }
  const sotto_format *f = sotto_format_find(data, size);
  if (!f) {
    sotto_error_set(err, size < 16 && size < file_size ? SOTTO_TRUNCATED : SOTTO_UNSUPPORTED_FORMAT,
                    "not a model format sotto reads (fastText .bin/.ftz, GGUF)");
    return err->status;
  }
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "format", f->name);
  cJSON_AddNumberToObject(r, "file_bytes", (double)file_size);
  if (strcmp(f->name, "gguf") == 0) {
    sotto_gguf *g = sotto_gguf_open_header(data, size, file_size, err);
    if (!g) goto fail;
    cJSON_AddNumberToObject(r, "header_bytes", (double)sotto_gguf_data_offset(g));
    sotto_lm_estimate lm;
    sotto_gguf_string a = {0};
    if (sotto_gguf_get_str(g, "general.architecture", &a, err) != 1) {
      if (!err->status) sotto_error_set(err, SOTTO_BAD_MODEL, "GGUF without general.architecture");
      sotto_gguf_close(g);
      goto fail;
    }
    int known = 0;
    for (size_t i = 0; i < sizeof gguf_families / sizeof gguf_families[0]; i++)
      known |= strlen(gguf_families[i].arch) == a.len && memcmp(gguf_families[i].arch, a.data, a.len) == 0;
    if (!known) {
      sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "GGUF architecture \"%.*s\" is not supported",
                      (int)(a.len > 40 ? 40 : a.len), a.data);
      sotto_gguf_close(g);
      goto fail;
    }
    if (sotto_llama_estimate(g, &lm, err) == 0) {
      cJSON_AddStringToObject(r, "arch", lm.arch);
      cJSON_AddNumberToObject(r, "weights_bytes", (double)lm.weights_bytes);
      cJSON_AddNumberToObject(r, "state_bytes", (double)lm.state_bytes);
      cJSON_AddNumberToObject(r, "bytes", (double)(lm.weights_bytes + lm.state_bytes));
      cJSON_AddNumberToObject(r, "resident_bytes", (double)(file_size + lm.state_bytes));
      cJSON_AddNumberToObject(r, "n_ctx_default", lm.n_ctx_default);
      cJSON_AddNumberToObject(r, "n_ctx_train", lm.n_ctx_train);
      cJSON_AddBoolToObject(r, "exact", 1);
    } else if (err->status == SOTTO_UNSUPPORTED_MODEL) {
      /* another family: its tensors, used in place, and no more known */
      *err = (sotto_error){0};
      uint64_t w = 0;
      for (int64_t i = 0; i < sotto_gguf_n_tensors(g); i++) w += sotto_gguf_tensor_at(g, i)->bytes;
      cJSON_AddStringToObject(r, "arch", "");
      cJSON_AddNumberToObject(r, "weights_bytes", (double)w);
      cJSON_AddNumberToObject(r, "bytes", (double)w);
      cJSON_AddNumberToObject(r, "resident_bytes", (double)file_size);
      cJSON_AddBoolToObject(r, "exact", 0);
    } else {
      sotto_gguf_close(g);
      goto fail;
    }
    sotto_gguf_close(g);
  } else {
    cJSON_AddNumberToObject(r, "bytes", (double)file_size * COPYING_LOAD_FACTOR);
    cJSON_AddNumberToObject(r, "resident_bytes", (double)file_size * COPYING_LOAD_FACTOR);
    cJSON_AddBoolToObject(r, "exact", 0);
  }
  *json = cJSON_PrintUnformatted(r);
  cJSON_Delete(r);
  if (!*json) sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  return err->status;
fail:
  cJSON_Delete(r);
  return err->status;
}

#ifndef __EMSCRIPTEN__
static void release_map(sotto_blob *b) { munmap(b->owner, b->size); }

sotto_status sotto_model_add_file(sotto_context *ctx, const char *id, const char *path,
                                  sotto_error *err) {
  int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
    if (fd >= 0) close(fd);
    sotto_error_set(err, SOTTO_IO_ERROR, "cannot read the model file %.300s",
                    path ? path : "(null)");
    return SOTTO_IO_ERROR;
  }
  /* private and writable: a model may rearrange its weights in memory
   * (copy-on-write); the file itself is never written */
  void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED) {
    sotto_error_set(err, SOTTO_IO_ERROR, "cannot map the model file %.300s", path);
    return SOTTO_IO_ERROR;
  }
  sotto_blob blob = {p, (size_t)st.st_size, release_map, p};
  return add_blob(ctx, id, blob, err);
}
#else
sotto_status sotto_model_add_file(sotto_context *ctx, const char *id, const char *path,
                                  sotto_error *err) {
  (void)ctx, (void)id, (void)path;
  sotto_error_set(err, SOTTO_BAD_REQUEST, "the wasm engine takes models as bytes, not files");
  return SOTTO_BAD_REQUEST;
}
#endif
