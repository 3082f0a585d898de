/*
 * sotto - command-line front end of the native engine.
 *
 *   sotto [--threads N] [--memory-budget BYTES] [--model ID=FILE]... COMMAND [ARGS]
 *
 *   capabilities          print what this build can do
 *   request [FILE]        run JSON requests, one per line (FILE or stdin),
 *                         printing one response (and any partials) per line
 *   summarize [--style key-points|tldr|headline] [--length short|medium|long] FILE|-
 *                         summarize a UTF-8 text file (or stdin)
 *   classify --task language|sentiment [--top-k N] [--models DIR] FILE|-
 *                         label a text with the task's default model
 *                         (sotto_model_default), loaded from DIR/ID.ftz
 *   classify --model FILE.gguf [--labels a,b,c] [--hypothesis T] [--multi-label]
 *            [--pair TEXT] [--top-k N] FILE|-
 *                         label a text with a transformer classifier, or by
 *                         zero-shot --labels (NLI or embedding model)
 *   embed --model FILE.gguf [--pooling mean|cls] [--no-normalize] FILE|-
 *                         embed each line of a text file
 *   convert HF_DIR OUT.gguf [--type T] [--name NAME] [--weights-only]
 *                         convert a Hugging Face model folder to GGUF
 *   generate --model FILE.gguf [--max-tokens N] [--temperature T] [--seed S]
 *            [--chat] [--json] PROMPT...|-
 *                         continue a prompt (or answer it as a chat message)
 *                         with a GGUF language model, text streamed as it comes
 *   summarize --model FILE.gguf ...   summarize with a GGUF language model
 *   estimate FILE         the memory a model file will need once loaded, from
 *                         its header (sotto_model_estimate)
 *
 * A model that cannot be registered is reported like any engine error, as
 * {"id":null,"error":{"code":..,"message":..}} on stdout (exit status 1).
 * Ctrl-C (SIGINT) cancels the running request at the engine's next
 * checkpoint, so it ends with its "cancelled" reply; no further request
 * runs and the exit status is 130. A second Ctrl-C ends the process.
 *
 * Every command is a request to the same dispatcher the extension and the
 * native host use, so the CLI shows exactly what they would get; convert
 * calls sotto_convert, as the extension's converter does.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cJSON.h"
#include "sotto.h"

#ifndef SOTTO_MODELS_DIR /* where the build put the bundled models */
#define SOTTO_MODELS_DIR "out/models"
#endif

static void usage(FILE *f) {
  fputs("usage: sotto [--threads N] [--memory-budget BYTES] [--model ID=FILE]... COMMAND [ARGS]\n"
        "commands:\n"
        "  capabilities     what this engine build can do\n"
        "  request [FILE]   JSON requests, one per line, from FILE or stdin\n"
        "  summarize [--style key-points|tldr|headline] [--length short|medium|long] FILE|-\n"
        "  classify --task language|sentiment [--top-k N] [--models DIR] FILE|-\n"
        "                   (the task's default model from DIR, $SOTTO_MODELS or\n"
        "                   " SOTTO_MODELS_DIR ")\n"
        "  classify --model FILE.gguf [--labels a,b,c] [--hypothesis T] [--multi-label]\n"
        "           [--pair TEXT] [--top-k N] FILE|-\n"
        "  embed --model FILE.gguf [--pooling mean|cls] [--no-normalize] FILE|-\n"
        "                   (one text per line)\n"
        "  convert HF_DIR OUT.gguf [--type f32|f16|bf16|q8_0|q4_0|q4_1|q5_0|q5_1|q4_k|q4_k_m|\n"
        "                  q5_k|q5_k_m|q6_k] [--name NAME] [--weights-only]\n"
        "  generate --model FILE.gguf [--max-tokens N] [--temperature T] [--seed S]\n"
        "           [--chat] [--json] PROMPT...|-\n"
        "  summarize --model FILE.gguf [--style S] [--length L] FILE|-   (with a language model)\n"
        "  estimate FILE    memory the model will need once loaded, from its header\n",
        f);
}

/* Reads a whole file (or stdin for "-") into a NUL-terminated buffer. */
static char *read_all(const char *path, size_t *size) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
    n += got;
    if (n == cap) {
      char *grown = realloc(buf, cap * 2 + 1);
      if (!grown) { free(buf); buf = NULL; break; }
      buf = grown, cap *= 2;
    }
  }
  if (f != stdin) fclose(f);
  if (!buf) return NULL;
  buf[n] = 0;
  if (size) *size = n;
  return buf;
}

static volatile sig_atomic_t interrupted; /* Ctrl-C: cancel the running request */

static void on_interrupt(int sig) {
  (void)sig;
  interrupted = 1;
}

/* The stream callback: prints a partial; at a checkpoint (json NULL) and
 * after a partial, nonzero cancels the request. */
static int print_partial(void *user, const char *json) {
  (void)user;
  if (json) puts(json), fflush(stdout);
  return interrupted;
}

/* Prints the response; returns 1 when it is an error reply. */
static int print_response(char *out) {
  if (!out) {
    fputs("sotto: out of memory\n", stderr);
    return 1;
  }
  int failed = strncmp(out, "{\"id\":", 6) == 0 && strstr(out, ",\"error\":{") != NULL;
  puts(out);
  fflush(stdout); /* each reply as soon as it is there, also into a pipe */
  sotto_string_free(out);
  return failed;
}

/* Runs req (taken) with its partials to on_partial; the reply, or NULL
 * when out of memory. */
static char *run(sotto_context *ctx, cJSON *req, sotto_stream_fn on_partial) {
  char *json = cJSON_PrintUnformatted(req);
  cJSON_Delete(req);
  if (!json) return NULL;
  char *out = sotto_request_stream(ctx, json, on_partial, NULL);
  cJSON_free(json);
  return out;
}

/* Prints a failure as the engine replies with one. */
static void print_error(const sotto_error *err) {
  cJSON *r = cJSON_CreateObject(), *e = cJSON_CreateObject();
  cJSON_AddNullToObject(r, "id");
  cJSON_AddStringToObject(e, "code", sotto_status_code(err->status));
  cJSON_AddStringToObject(e, "message", err->message);
  cJSON_AddItemToObject(r, "error", e);
  char *s = cJSON_PrintUnformatted(r);
  if (s) puts(s);
  cJSON_free(s);
  cJSON_Delete(r);
}

/* estimate FILE: the file is mapped, so only the pages of its header are
 * read. */
static int estimate(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  sotto_error err = {0};
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
    if (fd >= 0) close(fd);
    sotto_error_set(&err, SOTTO_IO_ERROR, "cannot read the model file %.300s", path);
    print_error(&err);
    return 1;
  }
  void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  char *json = NULL;
  if (p == MAP_FAILED) sotto_error_set(&err, SOTTO_IO_ERROR, "cannot map the model file %.300s", path);
  else sotto_model_estimate(p, (size_t)st.st_size, (uint64_t)st.st_size, &json, &err);
  if (p != MAP_FAILED) munmap(p, (size_t)st.st_size);
  if (!json) {
    print_error(&err);
    return 1;
  }
  printf("{\"id\":null,\"result\":%s}\n", json);
  sotto_string_free(json);
  return 0;
}

/* --model ID=FILE: registers FILE (mapped, used in place) under ID. */
static int add_model(sotto_context *ctx, const char *spec) {
  const char *eq = strchr(spec, '=');
  char id[SOTTO_MODEL_ID_BYTES];
  if (!eq || eq == spec || eq - spec >= (long)sizeof id || !eq[1]) {
    fprintf(stderr, "sotto: --model wants ID=FILE, got \"%s\"\n", spec);
    return -1;
  }
  snprintf(id, sizeof id, "%.*s", (int)(eq - spec), spec);
  sotto_error err = {0};
  if (sotto_model_add_file(ctx, id, eq + 1, &err) != SOTTO_OK) {
    fprintf(stderr, "sotto: model %s (%s): %s: %s\n", id, eq + 1, sotto_status_code(err.status),
            err.message);
    print_error(&err);
    return -1;
  }
  return 0;
}

/* Adds the text of FILE (or stdin for "-") to req, runs it and prints the
 * response. Takes ownership of req. */
static int request_with_text(sotto_context *ctx, cJSON *req, const char *path) {
  char *text = read_all(path, NULL);
  if (!text) {
    fprintf(stderr, "sotto: cannot read %s\n", path);
    cJSON_Delete(req);
    return 1;
  }
  cJSON_AddStringToObject(req, "text", text);
  free(text);
  return print_response(run(ctx, req, print_partial));
}

/* sotto summarize [--style S] [--length L] FILE|-: one "summarize" request.
 * Option values are passed through; the engine checks them. */
/* --model FILE as a command option: registers FILE under the id "llm". */
static const char *command_model(sotto_context *ctx, const char *file) {
  char spec[4200];
  snprintf(spec, sizeof spec, "llm=%s", file);
  return add_model(ctx, spec) == 0 ? "llm" : NULL;
}

static int summarize(sotto_context *ctx, int argc, char **argv) {
  const char *style = NULL, *length = NULL, *path = NULL, *model = NULL;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) {
      if (!(model = command_model(ctx, argv[++i]))) return 1;
    } else if (strcmp(argv[i], "--style") == 0 && i + 1 < argc) style = argv[++i];
    else if (strcmp(argv[i], "--length") == 0 && i + 1 < argc) length = argv[++i];
    else if (!path && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)) path = argv[i];
    else path = NULL, i = argc;
  }
  if (!path) {
    usage(stderr);
    return 2;
  }
  cJSON *req = cJSON_CreateObject();
  cJSON_AddStringToObject(req, "op", "summarize");
  if (model) cJSON_AddStringToObject(req, "model", model);
  if (style) cJSON_AddStringToObject(req, "style", style);
  if (length) cJSON_AddStringToObject(req, "length", length);
  return request_with_text(ctx, req, path);
}

/* sotto classify --task T [--top-k N] [--models DIR] FILE|-: loads the
 * task's default model (the engine's table, sotto_model_default; for
 * sentiment also the language model) from DIR/ID.ftz unless --model
 * already registered that id, and runs one "classify" request on the
 * file's text. */
static int classify_with(sotto_context *ctx, const char *file, const char *labels,
                         const char *hypothesis, int multi, const char *pair, const char *top_k,
                         const char *path);

static int classify(sotto_context *ctx, int argc, char **argv, const char **models,
                    int n_models) {
  const char *task = NULL, *top_k = NULL, *dir = getenv("SOTTO_MODELS"), *path = NULL;
  const char *file = NULL, *labels = NULL, *hypothesis = NULL, *pair = NULL;
  int multi = 0;
  if (!dir || !*dir) dir = SOTTO_MODELS_DIR;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) file = argv[++i];
    else if (strcmp(argv[i], "--labels") == 0 && i + 1 < argc) labels = argv[++i];
    else if (strcmp(argv[i], "--hypothesis") == 0 && i + 1 < argc) hypothesis = argv[++i];
    else if (strcmp(argv[i], "--pair") == 0 && i + 1 < argc) pair = argv[++i];
    else if (strcmp(argv[i], "--multi-label") == 0) multi = 1;
    else if (strcmp(argv[i], "--task") == 0 && i + 1 < argc) task = argv[++i];
    else if (strcmp(argv[i], "--top-k") == 0 && i + 1 < argc) top_k = argv[++i];
    else if (strcmp(argv[i], "--models") == 0 && i + 1 < argc) dir = argv[++i];
    else if (!path && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)) path = argv[i];
    else path = NULL, i = argc;
  }
  if (file && path && !task)
    return classify_with(ctx, file, labels, hypothesis, multi, pair, top_k ? top_k : "0", path);
  if (!top_k) top_k = "1";
  const char *id = sotto_model_default(task);
  char *end;
  double k = strtod(top_k, &end);
  if (!path || !id || *end || !(k >= 1)) {
    usage(stderr);
    return 2;
  }
  /* sentiment also needs the language model: an English model answers for English only */
  const char *lid = sotto_model_default("language");
  const char *need[2] = {id, strcmp(id, lid) != 0 ? lid : NULL};
  for (int i = 0; i < 2 && need[i]; i++) {
    int loaded = 0;
    for (int m = 0; m < n_models; m++)
      loaded |= strncmp(models[m], need[i], strlen(need[i])) == 0 && models[m][strlen(need[i])] == '=';
    char spec[4096];
    snprintf(spec, sizeof spec, "%s=%s/%s.ftz", need[i], dir, need[i]);
    if (!loaded && add_model(ctx, spec) != 0) {
      fputs("sotto: bundled models are built by `make models`\n", stderr);
      return 1;
    }
  }
  cJSON *req = cJSON_CreateObject();
  cJSON_AddStringToObject(req, "op", "classify");
  cJSON_AddStringToObject(req, "task", task);
  cJSON_AddNumberToObject(req, "top_k", k);
  return request_with_text(ctx, req, path);
}

/* sotto classify --model FILE.gguf ...: a transformer classifier, or
 * zero-shot labels with an NLI or embedding model. */
static int classify_with(sotto_context *ctx, const char *file, const char *labels,
                         const char *hypothesis, int multi, const char *pair, const char *top_k,
                         const char *path) {
  char spec[4096], *end;
  snprintf(spec, sizeof spec, "model=%s", file);
  double k = strtod(top_k, &end);
  if (*end || k < 0) {
    usage(stderr);
    return 2;
  }
  if (add_model(ctx, spec) != 0) return 1;
  cJSON *req = cJSON_CreateObject();
  cJSON_AddStringToObject(req, "op", "classify");
  cJSON_AddStringToObject(req, "model", "model");
  if (k >= 1) cJSON_AddNumberToObject(req, "top_k", k);
  if (labels) {
    cJSON *a = cJSON_AddArrayToObject(req, "labels");
    for (const char *p = labels; *p;) {
      size_t n = strcspn(p, ",");
      char *label = strndup(p, n);
      if (label && *label) cJSON_AddItemToArray(a, cJSON_CreateString(label));
      free(label);
      p += n + (p[n] == ',');
    }
  }
  if (hypothesis) cJSON_AddStringToObject(req, "hypothesis", hypothesis);
  if (multi) cJSON_AddBoolToObject(req, "multi_label", 1);
  if (pair) cJSON_AddStringToObject(req, "pair", pair);
  return request_with_text(ctx, req, path);
}

/* sotto embed --model FILE.gguf [--pooling P] [--no-normalize] FILE|-: one
 * "embed" request with each non-empty line of the file as a text. */
static int embed(sotto_context *ctx, int argc, char **argv) {
  const char *file = NULL, *pooling = NULL, *path = NULL;
  int normalize = 1;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) file = argv[++i];
    else if (strcmp(argv[i], "--pooling") == 0 && i + 1 < argc) pooling = argv[++i];
    else if (strcmp(argv[i], "--no-normalize") == 0) normalize = 0;
    else if (!path && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)) path = argv[i];
    else path = NULL, i = argc;
  }
  char spec[4096];
  if (!file || !path) {
    usage(stderr);
    return 2;
  }
  snprintf(spec, sizeof spec, "model=%s", file);
  if (add_model(ctx, spec) != 0) return 1;
  char *text = read_all(path, NULL);
  if (!text) {
    fprintf(stderr, "sotto: cannot read %s\n", path);
    return 1;
  }
  cJSON *req = cJSON_CreateObject();
  cJSON_AddStringToObject(req, "op", "embed");
  cJSON_AddStringToObject(req, "model", "model");
  if (pooling) cJSON_AddStringToObject(req, "pooling", pooling);
  cJSON_AddBoolToObject(req, "normalize", normalize);
  cJSON *texts = cJSON_AddArrayToObject(req, "texts");
  for (char *line = text, *next; *line; line = next) {
    next = line + strcspn(line, "\n");
    if (*next) *next++ = 0;
    if (strspn(line, " \t\r") != strlen(line)) cJSON_AddItemToArray(texts, cJSON_CreateString(line));
  }
  free(text);
  return print_response(run(ctx, req, print_partial));
}

/* ---- convert ---- */

typedef struct convert_out {
  FILE *f;
  int tty, shown;
} convert_out;

static int convert_write(void *user, const void *data, size_t len) {
  return fwrite(data, 1, len, ((convert_out *)user)->f) != len;
}

static int convert_progress(void *user, double done, const char *stage) {
  convert_out *o = user;
  int pct = (int)(done * 100);
  if (o->tty && pct != o->shown) fprintf(stderr, "\rsotto: %s %3d%%", stage, pct), o->shown = pct;
  return 0;
}

/* Maps path read-only into *f (an empty file maps to nothing). */
static int map_file(const char *path, const char *name, sotto_file *f) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  void *p = st.st_size ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
  close(fd);
  if (p == MAP_FAILED) return -1;
  f->name = strdup(name), f->data = p, f->size = (size_t)st.st_size;
  return 0;
}

/* The files of a model folder that the converter reads: its JSON files,
 * *.safetensors, and the JSON files one folder down (1_Pooling/). */
static int collect(const char *dir, const char *sub, sotto_file *files, int *n, int cap) {
  char path[4096];
  snprintf(path, sizeof path, "%s%s%s", dir, sub ? "/" : "", sub ? sub : "");
  DIR *d = opendir(path);
  if (!d) return -1;
  for (struct dirent *e; (e = readdir(d)) && *n < cap;) {
    size_t len = strlen(e->d_name);
    char rel[1024], full[4096];
    snprintf(rel, sizeof rel, "%s%s%s", sub ? sub : "", sub ? "/" : "", e->d_name);
    snprintf(full, sizeof full, "%s/%s", dir, rel);
    struct stat st;
    if (e->d_name[0] == '.' || stat(full, &st) != 0) continue;
    if (S_ISDIR(st.st_mode) && !sub) {
      collect(dir, e->d_name, files, n, cap);
    } else if (S_ISREG(st.st_mode) &&
               ((len > 5 && !strcmp(e->d_name + len - 5, ".json")) ||
                (!sub && len > 12 && !strcmp(e->d_name + len - 12, ".safetensors")))) {
      if (map_file(full, rel, &files[*n]) == 0) (*n)++;
    }
  }
  closedir(d);
  return 0;
}

static int convert(int argc, char **argv, int threads) {
  const char *dir = NULL, *out = NULL;
  sotto_convert_options opt = {.threads = threads > 0 ? threads : (int)sysconf(_SC_NPROCESSORS_ONLN)};
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--type") == 0 && i + 1 < argc) opt.type = argv[++i];
    else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) opt.name = argv[++i];
    else if (strcmp(argv[i], "--weights-only") == 0) opt.weights_only = 1;
    else if (!dir && argv[i][0] != '-') dir = argv[i];
    else if (!out && argv[i][0] != '-') out = argv[i];
    else dir = NULL, i = argc;
  }
  if (!dir || !out) {
    usage(stderr);
    return 2;
  }
  enum { MAX_FILES = 256 };
  sotto_file files[MAX_FILES];
  int n = 0;
  if (collect(dir, NULL, files, &n, MAX_FILES) != 0) {
    fprintf(stderr, "sotto: cannot read the folder %s: %s\n", dir, strerror(errno));
    return 1;
  }
  /* Written next to OUT and renamed at the end: no half-written model. */
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.part", out);
  convert_out o = {fopen(tmp, "wb"), isatty(2), -1};
  sotto_error err = {0};
  int rc = 1;
  if (!o.f) {
    fprintf(stderr, "sotto: cannot write %s: %s\n", tmp, strerror(errno));
  } else {
    sotto_status st = sotto_convert(files, n, &opt, convert_write, convert_progress, &o, &err);
    if (o.tty && o.shown >= 0) fputc('\n', stderr);
    if (fclose(o.f) != 0 && st == SOTTO_OK)
      sotto_error_set(&err, SOTTO_IO_ERROR, "cannot write %s", tmp), st = SOTTO_IO_ERROR;
    if (st == SOTTO_OK && rename(tmp, out) != 0)
      sotto_error_set(&err, SOTTO_IO_ERROR, "cannot rename %s", tmp), st = SOTTO_IO_ERROR;
    if (st != SOTTO_OK) {
      remove(tmp);
      fprintf(stderr, "sotto: %s: %s\n", sotto_status_code(st), err.message);
    }
    rc = st == SOTTO_OK ? 0 : 1;
  }
  for (int i = 0; i < n; i++) {
    if (files[i].size) munmap((void *)files[i].data, files[i].size);
    free((char *)files[i].name);
  }
  return rc;
}

/* Streams the text of generate's partials to stdout. */
static int print_text(void *user, const char *json) {
  (void)user;
  if (!json) return interrupted;
  cJSON *m = cJSON_Parse(json);
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "partial"), "text");
  if (cJSON_IsString(t)) fputs(t->valuestring, stdout), fflush(stdout);
  cJSON_Delete(m);
  return interrupted;
}

/* sotto generate --model FILE [options] PROMPT...|-: one "generate" request,
 * its text streamed; --json prints the protocol's messages instead. */
static int generate(sotto_context *ctx, int argc, char **argv) {
  cJSON *req = cJSON_CreateObject();
  cJSON_AddStringToObject(req, "op", "generate");
  cJSON_AddBoolToObject(req, "stream", 1);
  const char *model = NULL;
  int chat = 0, json = 0, i = 0;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(o, "--chat") == 0) chat = 1;
    else if (strcmp(o, "--json") == 0) json = 1;
    else if (strcmp(o, "--model") == 0 && v) { if (!(model = command_model(ctx, v))) goto fail; i++; }
    else if (strcmp(o, "--max-tokens") == 0 && v) cJSON_AddNumberToObject(req, "max_tokens", atof(v)), i++;
    else if (strcmp(o, "--temperature") == 0 && v) cJSON_AddNumberToObject(req, "temperature", atof(v)), i++;
    else if (strcmp(o, "--seed") == 0 && v) cJSON_AddNumberToObject(req, "seed", atof(v)), i++;
    else break;
  }
  if (!model || i >= argc) {
    usage(stderr);
    cJSON_Delete(req);
    return 2;
  }
  cJSON_AddStringToObject(req, "model", model);
  char *prompt = NULL;
  if (strcmp(argv[i], "-") == 0 && i + 1 == argc) {
    prompt = read_all("-", NULL);
  } else {
    size_t n = 1;
    for (int k = i; k < argc; k++) n += strlen(argv[k]) + 1;
    prompt = malloc(n);
    if (prompt) {
      prompt[0] = 0;
      for (int k = i; k < argc; k++) strcat(strcat(prompt, k > i ? " " : ""), argv[k]);
    }
  }
  if (!prompt) goto fail;
  if (chat) {
    cJSON *msgs = cJSON_AddArrayToObject(req, "messages"), *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "user");
    cJSON_AddStringToObject(m, "content", prompt);
    cJSON_AddItemToArray(msgs, m);
  } else {
    cJSON_AddStringToObject(req, "prompt", prompt);
  }
  free(prompt);
  char *out = run(ctx, req, json ? print_partial : print_text);
  if (json) return print_response(out);
  cJSON *r = cJSON_Parse(out);
  const cJSON *res = cJSON_GetObjectItemCaseSensitive(r, "result");
  int rc = 0;
  if (res) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(res, "timings");
    fprintf(stderr, "\n[%s; %d prompt tokens at %.1f tok/s, %d generated at %.1f tok/s]\n",
            cJSON_GetObjectItemCaseSensitive(res, "finish")->valuestring,
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "usage"), "prompt_tokens")->valueint,
            cJSON_GetObjectItemCaseSensitive(t, "prefill_tok_s")->valuedouble,
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "usage"), "completion_tokens")->valueint,
            cJSON_GetObjectItemCaseSensitive(t, "decode_tok_s")->valuedouble);
  } else {
    fprintf(stderr, "sotto: %s\n", out ? out : "out of memory");
    rc = 1;
  }
  cJSON_Delete(r);
  sotto_string_free(out);
  return rc;
fail:
  cJSON_Delete(req);
  return 1;
}

int main(int argc, char **argv) {
  sotto_config cfg = {0};
  int i = 1;
  const char *models[64];
  int n_models = 0;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      cfg.threads = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--memory-budget") == 0 && i + 1 < argc) {
      cfg.memory_budget = (size_t)strtoull(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc && n_models < 64) {
      models[n_models++] = argv[++i];
    } else if (strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (i >= argc) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[i], "convert") == 0) return convert(argc - i - 1, argv + i + 1, cfg.threads);
  if (strcmp(argv[i], "estimate") == 0 && i + 2 == argc) return estimate(argv[i + 1]);
  sotto_context *ctx = sotto_context_create(&cfg);
  if (!ctx) {
    fputs("sotto: cannot initialise the engine\n", stderr);
    return 1;
  }
  /* SA_RESETHAND: a second Ctrl-C is the default one, ending the process. */
  struct sigaction sa = {.sa_handler = on_interrupt, .sa_flags = SA_RESETHAND};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  int rc = 0;
  for (int m = 0; m < n_models && rc == 0; m++) rc = add_model(ctx, models[m]) ? 1 : 0;
  const char *cmd = argv[i];
  if (rc) {
  } else if (strcmp(cmd, "capabilities") == 0) {
    rc = print_response(sotto_request(ctx, "{\"op\":\"capabilities\"}"));
  } else if (strcmp(cmd, "request") == 0) {
    char *in = read_all(i + 1 < argc ? argv[i + 1] : "-", NULL);
    if (!in) {
      fprintf(stderr, "sotto: cannot read %s\n", i + 1 < argc ? argv[i + 1] : "stdin");
      rc = 1;
    }
    for (char *line = in, *next; line && *line && !interrupted; line = next) {
      next = strchr(line, '\n');
      if (next) *next++ = 0;
      else next = line + strlen(line);
      if (strspn(line, " \t\r") == strlen(line)) continue;
      rc |= print_response(sotto_request_stream(ctx, line, print_partial, NULL));
    }
    free(in);
  } else if (strcmp(cmd, "summarize") == 0) {
    rc = summarize(ctx, argc - i - 1, argv + i + 1);
  } else if (strcmp(cmd, "generate") == 0) {
    rc = generate(ctx, argc - i - 1, argv + i + 1);
  } else if (strcmp(cmd, "classify") == 0) {
    rc = classify(ctx, argc - i - 1, argv + i + 1, models, n_models);
  } else if (strcmp(cmd, "embed") == 0) {
    rc = embed(ctx, argc - i - 1, argv + i + 1);
  } else {
    usage(stderr);
    rc = 2;
  }
  sotto_context_destroy(ctx);
  return interrupted ? 128 + SIGINT : rc;
}
