/*
 * sotto - command-line front end of the native engine.
 *
 *   sotto [--threads N] [--model ID=FILE]... COMMAND [ARGS]
 *
 *   capabilities          print what this build can do
 *   request [FILE]        run JSON requests, one per line (FILE or stdin),
 *                         printing one response (and any partials) per line
 *   summarize [--style key-points|tldr|headline] [--length short|medium|long] FILE|-
 *                         summarize a UTF-8 text file (or stdin)
 *   classify --task language|sentiment [--top-k N] [--models DIR] FILE|-
 *                         label a text with the task's bundled fastText model
 *
 * Every command is a request to the same dispatcher the extension and the
 * native host use, so the CLI shows exactly what they would get.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "sotto.h"

#ifndef SOTTO_MODELS_DIR /* where the build put the bundled models */
#define SOTTO_MODELS_DIR "out/models"
#endif

static void usage(FILE *f) {
  fputs("usage: sotto [--threads N] [--model ID=FILE]... COMMAND [ARGS]\n"
        "commands:\n"
        "  capabilities     what this engine build can do\n"
        "  request [FILE]   JSON requests, one per line, from FILE or stdin\n"
        "  summarize [--style key-points|tldr|headline] [--length short|medium|long] FILE|-\n"
        "  classify --task language|sentiment [--top-k N] [--models DIR] FILE|-\n"
        "                   (models from DIR, $SOTTO_MODELS or " SOTTO_MODELS_DIR ")\n",
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

static int print_partial(void *user, const char *json) {
  (void)user;
  if (!json) return 0; /* a cancellation checkpoint: the CLI never cancels */
  puts(json);
  fflush(stdout);
  return 0;
}

/* Prints the response; returns 1 when it is an error reply. */
static int print_response(char *out) {
  if (!out) {
    fputs("sotto: out of memory\n", stderr);
    return 1;
  }
  int failed = strncmp(out, "{\"id\":", 6) == 0 && strstr(out, ",\"error\":{") != NULL;
  puts(out);
  sotto_string_free(out);
  return failed;
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
  char *json = cJSON_PrintUnformatted(req);
  cJSON_Delete(req);
  if (!json) {
    fputs("sotto: out of memory\n", stderr);
    return 1;
  }
  int rc = print_response(sotto_request(ctx, json));
  cJSON_free(json);
  return rc;
}

/* sotto summarize [--style S] [--length L] FILE|-: one "summarize" request.
 * Option values are passed through; the engine checks them. */
static int summarize(sotto_context *ctx, int argc, char **argv) {
  const char *style = NULL, *length = NULL, *path = NULL;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--style") == 0 && i + 1 < argc) style = argv[++i];
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
  if (style) cJSON_AddStringToObject(req, "style", style);
  if (length) cJSON_AddStringToObject(req, "length", length);
  return request_with_text(ctx, req, path);
}

/* sotto classify --task T [--top-k N] [--models DIR] FILE|-: loads the
 * task's default model (and for sentiment the language model) from the
 * models directory (unless --model already registered that id) and runs
 * one "classify" request on the file's text. */
static int classify(sotto_context *ctx, int argc, char **argv, const char **models,
                    int n_models) {
  const char *task = NULL, *top_k = "1", *dir = getenv("SOTTO_MODELS"), *path = NULL;
  if (!dir || !*dir) dir = SOTTO_MODELS_DIR;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--task") == 0 && i + 1 < argc) task = argv[++i];
    else if (strcmp(argv[i], "--top-k") == 0 && i + 1 < argc) top_k = argv[++i];
    else if (strcmp(argv[i], "--models") == 0 && i + 1 < argc) dir = argv[++i];
    else if (!path && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)) path = argv[i];
    else path = NULL, i = argc;
  }
  const char *id = !task ? NULL
                   : strcmp(task, "language") == 0  ? "lid176"
                   : strcmp(task, "sentiment") == 0 ? "sentiment-en"
                                                    : NULL;
  char *end;
  double k = strtod(top_k, &end);
  if (!path || !id || *end || !(k >= 1)) {
    usage(stderr);
    return 2;
  }
  /* sentiment also needs the language model: an English model answers for English only */
  const char *need[2] = {id, strcmp(id, "lid176") != 0 ? "lid176" : NULL};
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

int main(int argc, char **argv) {
  sotto_config cfg = {0};
  int i = 1;
  const char *models[64];
  int n_models = 0;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      cfg.threads = atoi(argv[++i]);
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
  sotto_context *ctx = sotto_context_create(&cfg);
  if (!ctx) {
    fputs("sotto: cannot initialise the engine\n", stderr);
    return 1;
  }
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
    for (char *line = in, *next; line && *line; line = next) {
      next = strchr(line, '\n');
      if (next) *next++ = 0;
      else next = line + strlen(line);
      if (strspn(line, " \t\r") == strlen(line)) continue;
      rc |= print_response(sotto_request_stream(ctx, line, print_partial, NULL));
    }
    free(in);
  } else if (strcmp(cmd, "summarize") == 0) {
    rc = summarize(ctx, argc - i - 1, argv + i + 1);
  } else if (strcmp(cmd, "classify") == 0) {
    rc = classify(ctx, argc - i - 1, argv + i + 1, models, n_models);
  } else {
    usage(stderr);
    rc = 2;
  }
  sotto_context_destroy(ctx);
  return rc;
}
