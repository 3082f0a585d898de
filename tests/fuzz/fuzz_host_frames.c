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

static sotto_context *fuzz_ctx;

static int check_frame(void *user, const uint8_t *f, size_t n) {
  (void)user;
  uint32_t len;
  if (n < 4) abort();
  memcpy(&len, f, 4);
  if ((size_t)len + 4 != n || len > FUZZ_MAX_OUT) abort();
  if (!host_utf8_valid(f + 4, len)) abort();
  cJSON *j = cJSON_ParseWithLength((const char *)f + 4, len);
  if (!cJSON_IsObject(j) || !cJSON_GetObjectItemCaseSensitive(j, "id")) abort();
  cJSON_Delete(j);
  return 0;
}

static char *fuzz_engine(sotto_context *ctx, const char *json, sotto_stream_fn fn, void *user) {
  cJSON *req = cJSON_Parse(json);
  const char *op = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "op"));
  int slow = op && strcmp(op, "tensor.bench") == 0;
  cJSON_Delete(req);
  if (slow) {
    char *s = malloc(64);
    if (s) snprintf(s, 64, "{\"id\":null,\"error\":{\"code\":\"skipped\",\"message\":\"\"}}");
    return s;
  }
  return sotto_request_stream(ctx, json, fn, user);
}

static char home[] = "/tmp/sotto-fuzz-host-XXXXXX";

static void remove_home(void) {
  char cmd[64];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", home);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
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
  host_config cfg = {.max_in = 1 << 16, .max_out = FUZZ_MAX_OUT, .workers = 0, .max_jobs = 4,
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
  return 0;
}
