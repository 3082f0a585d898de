/*
 * test_host_frames.c - the native host's wire format without a process:
 * chunked replies (pieces under the limit, on UTF-8 boundaries, escapes
 * intact, joined back to the exact original), invalid UTF-8 never reaching
 * the browser, frames fed a byte at a time, oversized frames skipped in step.
 * The host core is compiled in (as the fuzzer does) with no worker threads.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include "../../native-host/frames.c"
#include "../../native-host/host.c"
#include "../../native-host/modelstore.c"

#include "check.h"

#define MAX_OUT 1024

static cJSON *got[4096];
static size_t n_got, biggest;
static char *joined;
static size_t joined_len;

/* Collects frames; chunk messages are joined into the message they carry. */
static int collect(void *user, const uint8_t *f, size_t n) {
  (void)user;
  uint32_t len;
  memcpy(&len, f, 4);
  CHECK((size_t)len + 4 == n, "frame length prefix");
  CHECK(len <= MAX_OUT, "frame of %u bytes over the limit", len);
  CHECK(host_utf8_valid(f + 4, len), "frame is UTF-8");
  if (len > biggest) biggest = len;
  cJSON *m = cJSON_ParseWithLength((const char *)f + 4, len);
  CHECK(m != NULL, "frame is JSON: %.*s", (int)(len < 200 ? len : 200), f + 4);
  const cJSON *chunk = cJSON_GetObjectItem(m, "chunk");
  if (cJSON_IsString(chunk)) {
    size_t k = strlen(chunk->valuestring);
    joined = realloc(joined, joined_len + k + 1);
    memcpy(joined + joined_len, chunk->valuestring, k + 1);
    joined_len += k;
  }
  if (n_got < 4096) got[n_got++] = m;
  else cJSON_Delete(m);
  return 0;
}

static void reset(void) {
  for (size_t i = 0; i < n_got; i++) cJSON_Delete(got[i]);
  n_got = biggest = joined_len = 0;
  free(joined);
  joined = NULL;
}

static const char *err_code(size_t i) {
  return i < n_got ? cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(got[i], "error"), "code")) : NULL;
}

static void feed_msg(host *h, const char *json, size_t step) {
  size_t n = strlen(json);
  uint8_t *f = malloc(n + 4);
  uint32_t len = (uint32_t)n;
  memcpy(f, &len, 4);
  memcpy(f + 4, json, n);
  for (size_t i = 0; i < n + 4; i += step) host_feed(h, f + i, n + 4 - i < step ? n + 4 - i : step);
  free(f);
}

int main(void) {
  char home[] = "/tmp/sotto-test-frames-XXXXXX";
  CHECK(mkdtemp(home) != NULL, "temp home");
  setenv("HOME", home, 1);
  unsetenv("XDG_DATA_HOME");
  unsetenv("XDG_CONFIG_HOME");
  sotto_config ec = {.threads = 1};
  sotto_context *ctx = sotto_context_create(&ec);
  host_config cfg = {.max_in = 4096, .max_out = MAX_OUT, .workers = 0};
  host *h = host_create(&cfg, ctx, collect, NULL, "test");
  CHECK(h != NULL, "host");

  /* A long message of multi-byte characters, quotes, backslashes and
   * control characters (escaped in JSON text) comes out in chunks that join
   * back to the exact text. */
  const char *pieces[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\\\"", "\\\\", "\\n", "a"};
  size_t cap = 64 + 6000 * 4, len = 0;
  char *text = malloc(cap);
  if (!text) return 1;
  const char *head = "{\"id\":\"long\",\"result\":\"";
  memcpy(text, head, strlen(head)), len = strlen(head);
  for (int i = 0; i < 6000; i++) {
    const char *piece = pieces[(i * 5) % 7];
    memcpy(text + len, piece, strlen(piece)), len += strlen(piece);
  }
  memcpy(text + len, "\"}", 3);
  cJSON *id = cJSON_CreateString("long");
  CHECK(host_send(h, id, text) == 0, "sent");
  CHECK(n_got > 10, "%zu chunk messages", n_got);
  CHECK(joined && strcmp(joined, text) == 0, "chunks join back to the original");
  int seq_ok = 1;
  for (size_t i = 0; i < n_got; i++) {
    seq_ok &= cJSON_GetObjectItem(got[i], "seq")->valueint == (int)i;
    seq_ok &= cJSON_IsTrue(cJSON_GetObjectItem(got[i], "last")) == (i + 1 == n_got);
    seq_ok &= strcmp(cJSON_GetObjectItem(got[i], "id")->valuestring, "long") == 0;
  }
  CHECK(seq_ok, "seq 0..n-1, last only on the last, id on each");
  CHECK(biggest > MAX_OUT / 2, "pieces use the room they have (%zu bytes)", biggest);
  cJSON *whole = cJSON_Parse(joined);
  CHECK(whole && strcmp(cJSON_GetObjectItem(whole, "id")->valuestring, "long") == 0, "the joined text parses");
  cJSON_Delete(whole);
  reset();

  /* Text that is not UTF-8 never reaches the browser as such. */
  CHECK(host_send(h, id, "{\"id\":\"long\",\"result\":\"bad \xff\xfe bytes \xe2\x82\"}") == 0, "sent");
  CHECK(n_got == 1 && strstr(cJSON_GetObjectItem(got[0], "result")->valuestring, "\xef\xbf\xbd"),
        "invalid bytes replaced by U+FFFD");
  reset();
  cJSON_Delete(id);

  /* Requests fed one byte at a time, and in odd pieces. */
  feed_msg(h, "{\"id\":1,\"op\":\"tensor.softmax\",\"x\":{\"shape\":[2],\"data\":[0,0]}}", 1);
  feed_msg(h, "{\"id\":2,\"op\":\"host.hello\"}", 3);
  CHECK(n_got == 2 && cJSON_GetObjectItem(got[0], "result") && cJSON_GetObjectItem(got[1], "result"),
        "both answered");
  CHECK(n_got == 2 && cJSON_GetObjectItem(got[1], "__chunks") == NULL, "hello fits");
  reset();

  /* An oversized frame is answered, skipped unread, and the next is served. */
  uint32_t big = 5000;
  uint8_t hdr[4];
  memcpy(hdr, &big, 4);
  host_feed(h, hdr, 4);
  uint8_t junk[1000];
  memset(junk, '{', sizeof junk);
  for (int i = 0; i < 5; i++) host_feed(h, junk, sizeof junk);
  feed_msg(h, "{\"id\":3,\"op\":\"host.models.list\"}", 7);
  CHECK(n_got == 2 && err_code(0) && strcmp(err_code(0), "too_large") == 0, "too_large");
  CHECK(n_got == 2 && cJSON_GetObjectItem(got[1], "result"), "in step afterwards");
  reset();

  /* An empty frame, then an impossible length: the stream ends. */
  uint32_t zero = 0, neg = 0x80000000u;
  memcpy(hdr, &zero, 4);
  CHECK(host_feed(h, hdr, 4) == 0, "empty frame: go on");
  memcpy(hdr, &neg, 4);
  CHECK(host_feed(h, hdr, 4) == -1, "2^31: stop");
  CHECK(n_got == 2 && strcmp(err_code(0), "bad_frame") == 0 && strcmp(err_code(1), "bad_frame") == 0,
        "both answered bad_frame");
  reset();

  host_destroy(h);
  sotto_context_destroy(ctx);
  free(text);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
  CHECK(system(cmd) == 0, "cleanup");
  return check_finish();
}
