/*
 * test_vectors.c - runs tests/vectors/ops.json (expected values computed in
 * double precision by an independent script) through sotto_request, with 1
 * and 2 threads. tests/js/vectors.test.mjs runs the same file on the wasm
 * builds.
 */
#include <math.h>

#include "cJSON.h"
#include "check.h"
#include "sotto.h"

static void run_vectors(const cJSON *doc, int threads) {
  sotto_config cfg = {.threads = threads};
  sotto_context *ctx = sotto_context_create(&cfg);
  CHECK(ctx != NULL, "context with %d threads", threads);
  if (!ctx) return;
  const cJSON *tol = cJSON_GetObjectItem(doc, "tolerance");
  double abs_tol = cJSON_GetObjectItem(tol, "abs")->valuedouble;
  double rel_tol = cJSON_GetObjectItem(tol, "rel")->valuedouble;
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
    const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
    char *req = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "request"));
    char *out = sotto_request(ctx, req);
    cJSON *resp = cJSON_Parse(out);
    CHECK(resp != NULL, "%s: response is JSON: %s", name, out);
    const cJSON *want_err = cJSON_GetObjectItem(c, "error");
    const cJSON *err = cJSON_GetObjectItem(resp, "error");
    if (want_err) {
      const cJSON *code = cJSON_GetObjectItem(err, "code");
      CHECK(cJSON_IsString(code) && strcmp(code->valuestring, want_err->valuestring) == 0,
            "%s: expected error %s, got %s", name, want_err->valuestring, out);
    } else {
      const cJSON *expect = cJSON_GetObjectItem(c, "expect");
      const cJSON *got = cJSON_GetObjectItem(resp, "result");
      CHECK(got && !err, "%s: %s", name, out);
      char *es = cJSON_PrintUnformatted(cJSON_GetObjectItem(expect, "shape"));
      char *gs = cJSON_PrintUnformatted(cJSON_GetObjectItem(got, "shape"));
      CHECK(gs && strcmp(es, gs) == 0, "%s: shape %s, expected %s", name, gs, es);
      const cJSON *e = cJSON_GetObjectItem(expect, "data")->child;
      const cJSON *g = got ? cJSON_GetObjectItem(got, "data")->child : NULL;
      double worst = 0;
      int bad = 0;
      for (; e && g; e = e->next, g = g->next) {
        double diff = fabs(e->valuedouble - g->valuedouble);
        if (diff > abs_tol + rel_tol * fabs(e->valuedouble)) bad++;
        if (diff > worst) worst = diff;
      }
      CHECK(!bad && !e && !g, "%s (%d threads): %d values off, worst %g", name, threads, bad, worst);
      free(es), free(gs);
    }
    cJSON_Delete(resp);
    sotto_string_free(out);
    free(req);
  }
  sotto_context_destroy(ctx);
}

int main(void) {
  char *text = check_read_file("tests/vectors/ops.json", NULL);
  CHECK(text != NULL, "tests/vectors/ops.json is readable");
  cJSON *doc = text ? cJSON_Parse(text) : NULL;
  CHECK(doc != NULL, "vectors parse");
  if (doc) {
    run_vectors(doc, 1);
    run_vectors(doc, 2);
  }
  cJSON_Delete(doc);
  free(text);
  return check_finish();
}
