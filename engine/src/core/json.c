/*
 * json.c - typed readers for the fields of a request object. A field that is
 * absent (or null) gives the default; one of the wrong type or out of range
 * sets SOTTO_BAD_REQUEST naming the field, so every op words such errors
 * alike.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

const char *sotto_json_str(const cJSON *req, const char *key, const char *dflt,
                           sotto_error *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
  if (!v || cJSON_IsNull(v)) return dflt;
  if (!cJSON_IsString(v)) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"%s\" must be a string", key);
    return dflt;
  }
  return v->valuestring;
}

double sotto_json_num(const cJSON *req, const char *key, double dflt, double lo, double hi,
                      sotto_error *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
  if (!v || cJSON_IsNull(v)) return dflt;
  if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi)) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"%s\" must be a number from %g to %g", key, lo, hi);
    return dflt;
  }
  return v->valuedouble;
}

long sotto_json_int(const cJSON *req, const char *key, long dflt, long lo, long hi,
                    sotto_error *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
  if (!v || cJSON_IsNull(v)) return dflt;
  if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)lo && v->valuedouble <= (double)hi) ||
      v->valuedouble != floor(v->valuedouble)) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"%s\" must be a whole number from %ld to %ld", key,
                    lo, hi);
    return dflt;
  }
  return (long)v->valuedouble;
}

int sotto_json_bool(const cJSON *req, const char *key, int dflt, sotto_error *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
  if (!v || cJSON_IsNull(v)) return dflt;
  if (!cJSON_IsBool(v)) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"%s\" must be true or false", key);
    return dflt;
  }
  return cJSON_IsTrue(v);
}

int sotto_json_enum(const cJSON *req, const char *key, const char *const *names, int count,
                    int dflt, sotto_error *err) {
  const char *s = sotto_json_str(req, key, NULL, err);
  if (!s) return dflt;
  for (int i = 0; i < count; i++)
    if (strcmp(names[i], s) == 0) return i;
  char list[256] = "";
  size_t used = 0;
  for (int i = 0; i < count && used < sizeof list; i++)
    used += (size_t)snprintf(list + used, sizeof list - used, "%s\"%s\"",
                             i == 0 ? "" : i == count - 1 ? " or " : ", ", names[i]);
  sotto_error_set(err, SOTTO_BAD_REQUEST, "\"%s\" must be %s", key, list);
  return -1;
}

const char **sotto_json_strings(const cJSON *req, const char *key, int max, int *n,
                                sotto_error *err) {
  *n = 0;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key), *item;
  if (!v || cJSON_IsNull(v)) return NULL;
  int count = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 0;
  if (count < 1 || count > max) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"%s\" must be an array of 1 to %d strings", key, max);
    return NULL;
  }
  const char **out = malloc((size_t)count * sizeof *out);
  if (!out) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    return NULL;
  }
  cJSON_ArrayForEach(item, v) {
    if (!cJSON_IsString(item)) {
      free(out);
      sotto_error_set(err, SOTTO_BAD_REQUEST, "\"%s\" must hold strings only", key);
      return NULL;
    }
    out[(*n)++] = item->valuestring;
  }
  return out;
}
