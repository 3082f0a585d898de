/*
 * fuzz_host_frames.c - libFuzzer target: any byte stream from the browser
 * through the native host's frame parser and request dispatch (host ops,
 * installs into a private store, engine requests) must be answered or
 * refused, never crash, leak or exceed the output size limit. Every message
 * the host writes is checked: one frame, under the limit, valid UTF-8, a
 * JSON object with an "id".
 *
 * The first input byte picks the shape of the rest: even = a raw byte
 * stream fed in pieces of varying sizes; odd = lines, each sent as one
 * well-formed frame, so the fuzzer reaches the JSON dispatch quickly.
 *
 * The host core is compiled into this program (it includes the host's
 * sources), so requests run on the calling thread (no workers) and the
 * engine entry point can be wrapped: tensor.bench is kept out because its
 * cost is chosen by its parameters, not bounded by the input's size.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include "../../native-host/frames.c"
#include "../../native-host/host.c"
#include "../../native-host/modelstore.c"

#define FUZZ_MAX_OUT 1024 /* the smallest allowed, so chunked replies are common */
/* Inputs are at most 1 KiB (tests/fuzz/run.sh): frames over this limit, and
 * the skipping of their bytes, fit in one; the seeds' frames are under it. */
#define FUZZ_MAX_IN 768

static sotto_context *fuzz_ctx;

/* The checker parses every frame the host writes; its parse trees live in
 * an arena (cJSON's hooks, set only while it checks: the host's own cJSON
 * use stays on the checked heap), which halves the checker's cost. A frame
 * of FUZZ_MAX_OUT bytes cannot need more than the arena holds. */
static _Alignas(16) unsigned char arena[1 << 20];
static size_t arena_used;

static void *arena_malloc(size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (n > sizeof arena - arena_used) abort();
  void *p = arena + arena_used;
  arena_used += n;
  return p;
}

static void arena_free(void *p) { (void)p; }

static int check_frame(void *user, const uint8_t *f, size_t n) {
  (void)user;
  uint32_t len;
  if (n < 4) abort();
  memcpy(&len, f, 4);
  if ((size_t)len + 4 != n || len > FUZZ_MAX_OUT) abort();
  if (!host_utf8_valid(f + 4, len)) abort();
  cJSON_Hooks hooks = {arena_malloc, arena_free};
  cJSON_InitHooks(&hooks);
  cJSON *j = cJSON_ParseWithLength((const char *)f + 4, len);
  int ok = cJSON_IsObject(j) && cJSON_GetObjectItemCaseSensitive(j, "id");
  cJSON_InitHooks(NULL);
  arena_used = 0;
  if (!ok) abort();
  return 0;
}

static char *fuzz_engine(sotto_context *ctx, const char *json, sotto_stream_fn fn, void *user) {
  int slow = 0;
  /* Only then can the op be "tensor.bench" (spelt out or with \u escapes). */
  if (strstr(json, "bench") || strstr(json, "\\u")) {
    cJSON *req = cJSON_Parse(json);
    const char *op = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "op"));
    slow = op && strcmp(op, "tensor.bench") == 0;
    cJSON_Delete(req);
  }
  if (slow) {
    char *s = malloc(64);
    if (s) snprintf(s, 64, "{\"id\":null,\"error\":{\"code\":\"skipped\",\"message\":\"\"}}");
    return s;
  }
  return sotto_request_stream(ctx, json, fn, user);
}

/* The store lives in memory (/dev/shm) when it can: installs fsync, and a
 * disk's fsync would cost more than everything else an input does. */
static char home[64];

static void remove_home(void) {
  char cmd[64];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", home);
}

/* Each input starts from an empty store, as a fresh browser profile would:
 * models one input installed must not slow down or change the next. */
static void empty_store(void) {
  char dir[128];
  snprintf(dir, sizeof dir, "%s/.local/share/sotto/models", home);
  DIR *d = opendir(dir);
  if (!d) return;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  snprintf(home, sizeof home, "%s/sotto-fuzz-host-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
  if (!mkdtemp(home)) abort();
  atexit(remove_home);
  setenv("HOME", home, 1);
  unsetenv("XDG_DATA_HOME");
  unsetenv("XDG_CONFIG_HOME");
  unsetenv("SOTTO_PASSPHRASE");
  setenv("SOTTO_HOST_LOG", "/dev/null", 1);
  sotto_config cfg = {.threads = 1};
  fuzz_ctx = sotto_context_create(&cfg);
  if (!fuzz_ctx) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  host_config cfg = {.max_in = FUZZ_MAX_IN, .max_out = FUZZ_MAX_OUT, .workers = 0, .max_jobs = 4,
                     .threads = 1};
  host *h = host_create(&cfg, fuzz_ctx, check_frame, NULL, "chrome-extension://fuzz/");
  if (!h) abort();
  h->engine = fuzz_engine;
  if (size > 0 && (data[0] & 1)) {
    const uint8_t *p = data + 1, *end = data + size;
    while (p < end) {
      const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
      size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
      uint8_t *frame = malloc(n + 4);
      uint32_t len = (uint32_t)n;
      memcpy(frame, &len, 4);
      memcpy(frame + 4, p, n);
      int rc = host_feed(h, frame, n + 4);
      free(frame);
      if (rc != 0) break;
      p += n + 1;
    }
  } else if (size > 0) {
    /* Raw stream in pieces whose sizes the input itself picks. */
    size_t pos = 1, step = (size_t)data[0] + 1;
    while (pos < size) {
      size_t n = size - pos < step ? size - pos : step;
      if (host_feed(h, data + pos, n) != 0) break;
      pos += n;
      step = step * 7 % 257 + 1;
    }
  }
  host_destroy(h);
  empty_store();
  return 0;
}
