/*
 * test_api.c - the request dispatcher: ids echoed, streaming, errors for
 * every kind of bad input, capabilities, model registration errors.
 */
#include "cJSON.h"
#include "check.h"
#include "sotto.h"

static sotto_context *ctx;

/* Runs a request and returns the parsed response (caller deletes). */
static cJSON *ask(const char *json) {
  char *out = sotto_request(ctx, json);
  CHECK(out != NULL, "response for %s", json);
  cJSON *r = out ? cJSON_Parse(out) : NULL;
  CHECK(r != NULL, "response is JSON: %s", out ? out : "(null)");
  sotto_string_free(out);
  return r;
}

static void expect_error(const char *json, const char *code) {
  cJSON *r = ask(json);
  const cJSON *c = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "error"), "code");
  const cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "error"), "message");
  CHECK(cJSON_IsString(c) && strcmp(c->valuestring, code) == 0, "%.60s -> error %s", json, code);
  CHECK(cJSON_IsString(m) && m->valuestring[0], "%.60s has a message", json);
  cJSON_Delete(r);
}

static int partials;
static int count_partial(void *user, const char *json) {
  (void)user;
  if (!json) return 0; /* a cancellation checkpoint */
  partials++;
  return strstr(json, "\"id\":\"s1\"") == NULL; /* cancel if the id is lost */
}

int main(void) {
  sotto_config cfg = {.threads = 2};
  ctx = sotto_context_create(&cfg);
  CHECK(ctx != NULL, "context");

  cJSON *r = ask("{\"id\":\"c1\",\"op\":\"capabilities\"}");
  const cJSON *res = cJSON_GetObjectItem(r, "result");
  CHECK(strcmp(cJSON_GetObjectItem(r, "id")->valuestring, "c1") == 0, "id echoed");
  CHECK(strcmp(cJSON_GetObjectItem(res, "flavour")->valuestring, "native") == 0, "flavour");
  CHECK(cJSON_GetObjectItem(res, "threads")->valueint == 2, "threads reported");
  const cJSON *v = cJSON_GetObjectItem(res, "versions");
  CHECK(strcmp(cJSON_GetObjectItem(v, "libsodium")->valuestring, "1.0.22") == 0, "libsodium version");
  CHECK(strcmp(cJSON_GetObjectItem(v, "cjson")->valuestring, "1.7.19") == 0, "cJSON version");
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(res, "ops")) >= 3, "ops listed");
  CHECK(strcmp(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "stats"), "ran")->valuestring, "native") == 0, "ran");
  cJSON_Delete(r);

  r = ask("{\"id\":42,\"op\":\"models.list\"}");
  CHECK(cJSON_GetObjectItem(r, "id")->valuedouble == 42, "numeric id echoed");
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "models")) == 0, "no models");
  cJSON_Delete(r);

  expect_error("", "bad_json");
  expect_error("{", "bad_json");
  expect_error("{\"op\":\"capabilities\"} trailing", "bad_json");
  expect_error("[1,2]", "bad_request");
  expect_error("\"op\"", "bad_request");
  expect_error("{}", "bad_request");
  expect_error("{\"op\":7}", "bad_request");
  expect_error("{\"id\":{},\"op\":\"capabilities\"}", "bad_request");
  expect_error("{\"op\":\"no.such.op\"}", "unknown_op");
  expect_error("{\"op\":\"tensor.matmul\"}", "bad_request");
  expect_error("{\"op\":\"tensor.matmul\",\"a\":{\"shape\":[0],\"data\":[]},\"b\":1}", "bad_request");
  expect_error("{\"op\":\"tensor.softmax\",\"x\":{\"shape\":[100000,100000],\"data\":[]}}", "too_large");
  expect_error("{\"op\":\"tensor.bench\",\"m\":-1}", "bad_request");
  /* a value no float holds; a result that overflows to infinity and NaN */
  expect_error("{\"op\":\"tensor.softmax\",\"x\":{\"shape\":[2],\"data\":[1e39,0]}}", "bad_request");
  expect_error("{\"op\":\"tensor.matmul\",\"a\":{\"shape\":[1,2],\"data\":[3e38,-3e38]},"
               "\"b\":{\"shape\":[2,1],\"data\":[3e38,3e38]}}", "bad_request");

  /* Deep nesting is refused by the parser's limit, not by the stack. */
  size_t depth = 100000;
  char *deep = malloc(depth * 2 + 1);
  memset(deep, '[', depth);
  memset(deep + depth, ']', depth);
  deep[depth * 2] = 0;
  expect_error(deep, "bad_json");
  free(deep);

  /* Invalid UTF-8 inside a string is passed through as bytes, not a crash. */
  r = ask("{\"id\":\"\xff\xfe\",\"op\":\"nope\"}");
  CHECK(cJSON_GetObjectItem(r, "error") != NULL, "invalid UTF-8 id -> error reply");
  cJSON_Delete(r);

  /* Streaming callback receives nothing for ops that do not stream, and the
   * final response still arrives. */
  partials = 0;
  char *out = sotto_request_stream(ctx, "{\"id\":\"s1\",\"op\":\"capabilities\"}", count_partial, NULL);
  CHECK(out && strstr(out, "\"result\""), "streamed request answers");
  CHECK(partials == 0, "capabilities sends no partials");
  sotto_string_free(out);

  sotto_error err = {0};
  char junk[] = "not a model file";
  CHECK(sotto_model_add(ctx, "m", junk, sizeof junk, SOTTO_MODEL_COPY, &err) ==
            SOTTO_UNSUPPORTED_FORMAT, "unknown format refused");
  CHECK(err.status == SOTTO_UNSUPPORTED_FORMAT && err.message[0], "error says why: %s", err.message);
  CHECK(sotto_format_detect(junk, sizeof junk) == NULL, "no format detected in junk");
  CHECK(sotto_model_add(ctx, "", junk, sizeof junk, SOTTO_MODEL_COPY, NULL) == SOTTO_BAD_REQUEST,
        "empty id refused");
  CHECK(sotto_model_remove(ctx, "absent") == SOTTO_MODEL_NOT_FOUND, "removing an absent model fails");
  CHECK(strcmp(sotto_status_code(SOTTO_OVER_BUDGET), "over_budget") == 0, "status code string");
  CHECK(sotto_status_from_code("tampered") == SOTTO_TAMPERED, "status from its code");
  CHECK(strcmp(sotto_status_code((sotto_status)9999), "internal") == 0, "unknown status");
  CHECK(strcmp(sotto_version(), SOTTO_VERSION) == 0, "version");

  sotto_context_destroy(ctx);
  sotto_context_destroy(NULL);
  return check_finish();
}
