/*
 * stream.c - partial results and cancellation of one request. A partial is
 * {"id":..,"partial":{"progress":..,"stage":..}} (long work) or
 * {"id":..,"partial":{"token":..,"text":..}} (generated text), sent only
 * when the request says "stream": true; the caller's callback sees each one
 * and, with NULL, each cancellation checkpoint.
 */
#include <stdlib.h>

#include "core.h"

int sotto_stream_emit(sotto_stream *st, cJSON *partial) {
  if (!st || !st->fn || st->cancelled || !st->partials) {
    cJSON_Delete(partial);
    return sotto_stream_cancelled(st);
  }
  cJSON *msg = cJSON_CreateObject();
  if (msg) {
    cJSON_AddItemToObject(msg, "id", st->id ? cJSON_Duplicate(st->id, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(msg, "partial", partial);
    char *s = cJSON_PrintUnformatted(msg);
    if (s && st->fn(st->user, s) != 0) st->cancelled = 1;
    free(s);
    cJSON_Delete(msg);
  } else {
    cJSON_Delete(partial);
  }
  return st->cancelled;
}

int sotto_stream_progress(sotto_stream *st, double done, const char *stage) {
  if (!st || !st->fn || !st->partials) return sotto_stream_cancelled(st);
  cJSON *p = cJSON_CreateObject();
  if (!p) return sotto_stream_cancelled(st);
  cJSON_AddNumberToObject(p, "progress", done);
  cJSON_AddStringToObject(p, "stage", stage);
  return sotto_stream_emit(st, p);
}

int sotto_stream_cancelled(sotto_stream *st) {
  if (!st || !st->fn) return 0;
  if (!st->cancelled && st->fn(st->user, NULL) != 0) st->cancelled = 1;
  return st->cancelled;
}
