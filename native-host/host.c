/*
 * host.c - the requests of the native messaging host.
 *
 * One engine context serves the whole port: its models are loaded once and
 * its thread pool is shared (pthreadpool runs one parallel job at a time and
 * queues the others). Requests run on a few worker threads, so a slow one
 * does not hold up the rest, under two rules:
 *  - an XNNPACK operator must not run from two threads at once, so the
 *    requests that name the same model are serialised on that model's lock;
 *  - loading or replacing a model changes the context's model table, so it
 *    takes the engine lock for writing while requests hold it for reading.
 * Ops without a model (tensor.*, capabilities) run side by side.
 *
 * The reader thread (host_feed -> host_message) never waits for a request:
 * host ops (host.hello, host.models.*, host.store.unlock, cancel) are quick
 * and run there, engine requests go to the queue. Host ops are named
 * "host.*" so they cannot be confused with the engine's ops: "models.list"
 * is the engine's (models registered in it), "host.models.list" the store's. Every request gets exactly one final message
 * (result or error) and nothing after it: a cancel answers the request at
 * once and the request's own late result, if any, is dropped.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host.h"

#define MAX_INSTALLS 4
#define INSTALL_CHUNK (1u << 20) /* raw bytes per install chunk we suggest */

enum { JOB_QUEUED, JOB_RUNNING };

typedef struct job {
  struct job *next;
  struct host *h;
  cJSON *id;
  char *id_key;    /* id as JSON text, to find the job for cancel */
  char *text;      /* the request */
  char model[65];  /* "" = none */
  int state;
  int answered;    /* under the output lock */
} job;

typedef struct loaded_model {
  char id[65];
  pthread_mutex_t run; /* one request at a time per model */
  int loaded, stale;   /* under load_lock */
} loaded_model;

typedef struct install_slot {
  store_install *in;
  double next_seq;
} install_slot;

struct host {
  struct host_io io; /* the wire (frames.c) */
  sotto_context *ctx;
  int own_ctx;
  char caller[256];
  host_store store;
  int store_ok;
  sotto_error store_err;
  /* jobs */
  pthread_mutex_t lock;
  pthread_cond_t cv;
  job *jobs; /* queued and running, oldest first */
  int n_jobs, stopping;
  pthread_t *workers;
  int n_workers;
  /* models */
  pthread_rwlock_t engine_lock;
  pthread_mutex_t load_lock;
  loaded_model **loaded;
  int n_loaded;
  install_slot installs[MAX_INSTALLS]; /* reader thread only */
  /* The engine entry point: sotto_request_stream (a fuzzer swaps in a
   * filter that keeps deliberately slow ops out). */
  char *(*engine)(sotto_context *ctx, const char *json, sotto_stream_fn fn, void *user);
};

struct host_io *host_io(host *h) { return &h->io; }

static FILE *log_file;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* Logs go to stderr (or $SOTTO_HOST_LOG), never to stdout: stdout is the
 * browser's. */
void host_log(const char *fmt, ...) {
  pthread_mutex_lock(&log_lock);
  if (!log_file) {
    const char *p = getenv("SOTTO_HOST_LOG");
    log_file = p && *p ? fopen(p, "a") : NULL;
    if (!log_file) log_file = stderr;
  }
  char ts[32];
  time_t t = time(NULL);
  struct tm tm;
  strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
  fprintf(log_file, "sotto-host %s: ", ts);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(log_file, fmt, ap);
  va_end(ap);
  fputc('\n', log_file);
  fflush(log_file);
  pthread_mutex_unlock(&log_lock);
}

/* ---- answering jobs: once, and nothing after the final message ---- */

/* Sends the final message of a job unless it has one; 1 = sent now. */
static int job_answer(job *j, const char *json) {
  struct host_io *io = host_io(j->h);
  pthread_mutex_lock(&io->out_lock);
  int now = !j->answered;
  if (now) {
    j->answered = 1;
    host_send_locked(j->h, j->id, json);
  }
  pthread_mutex_unlock(&io->out_lock);
  return now;
}

static int job_answer_error(job *j, sotto_status status, const char *message) {
  cJSON *r = cJSON_CreateObject();
  cJSON_AddItemToObject(r, "id", cJSON_Duplicate(j->id, 1));
  cJSON *e = cJSON_AddObjectToObject(r, "error");
  cJSON_AddStringToObject(e, "code", sotto_status_code(status));
  cJSON_AddStringToObject(e, "message", message);
  char *s = cJSON_PrintUnformatted(r);
  cJSON_Delete(r);
  int now = s ? job_answer(j, s) : 0;
  cJSON_free(s);
  return now;
}

/* The engine's partial results; returning 1 cancels the request. */
static int job_partial(void *user, const char *json) {
  job *j = user;
  struct host_io *io = host_io(j->h);
  pthread_mutex_lock(&io->out_lock);
  int stop = j->answered || io->out_dead;
  if (!stop && json) stop = host_send_locked(j->h, j->id, json) != 0;
  pthread_mutex_unlock(&io->out_lock);
  return stop;
}

static void job_free(job *j) {
  if (!j) return;
  cJSON_Delete(j->id);
  cJSON_free(j->id_key);
  free(j->text);
  free(j);
}

/* ---- models, loaded on demand ---- */

static loaded_model *loaded_find(host *h, const char *id) {
  for (int i = 0; i < h->n_loaded; i++)
    if (strcmp(h->loaded[i]->id, id) == 0) return h->loaded[i];
  return NULL;
}

/* The table entry of a model this host can serve, creating it for an
 * installed model; NULL when the store does not have it (the engine may
 * still know the id, e.g. a built-in model). */
static loaded_model *model_entry(host *h, const char *id) {
  pthread_mutex_lock(&h->load_lock);
  loaded_model *m = loaded_find(h, id);
  if (!m && h->store_ok && store_exists(&h->store, id)) {
    loaded_model **grown = realloc(h->loaded, (size_t)(h->n_loaded + 1) * sizeof *grown);
    m = grown ? calloc(1, sizeof *m) : NULL;
    if (grown) h->loaded = grown;
    if (m) {
      snprintf(m->id, sizeof m->id, "%s", id);
      pthread_mutex_init(&m->run, NULL);
      h->loaded[h->n_loaded++] = m;
    }
  }
  pthread_mutex_unlock(&h->load_lock);
  return m;
}

/* Marks a model for reloading (it was replaced or deleted on disk). */
static void model_stale(host *h, const char *id) {
  pthread_mutex_lock(&h->load_lock);
  loaded_model *m = loaded_find(h, id);
  if (m) m->stale = 1;
  pthread_mutex_unlock(&h->load_lock);
}

/* With m->run held: loads the model into the engine when it is not there or
 * stale. The plaintext reaches the engine only after the whole file has been
 * authenticated. */
static int model_ready(host *h, loaded_model *m, sotto_error *e) {
  pthread_mutex_lock(&h->load_lock);
  int need = !m->loaded || m->stale;
  pthread_mutex_unlock(&h->load_lock);
  if (!need) return 0;
  uint8_t *plain = NULL;
  size_t len = 0;
  cJSON *manifest = NULL;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int rc = store_load(&h->store, m->id, &plain, &len, &manifest, e);
  if (rc == 0) {
    pthread_rwlock_wrlock(&h->engine_lock);
    /* the engine takes the plaintext: no second copy of the model */
    rc = sotto_model_add(h->ctx, m->id, plain, len, SOTTO_MODEL_TAKE, e) == SOTTO_OK ? 0 : -1;
    plain = NULL;
    pthread_rwlock_unlock(&h->engine_lock);
    if (rc == 0) {
      clock_gettime(CLOCK_MONOTONIC, &t1);
      host_log("loaded model %s (%zu bytes, %.0f ms)", m->id, len,
               (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    }
  } else if (m->loaded) { /* gone or damaged on disk: drop the old copy too */
    pthread_rwlock_wrlock(&h->engine_lock);
    sotto_model_remove(h->ctx, m->id);
    pthread_rwlock_unlock(&h->engine_lock);
  }
  free(plain);
  cJSON_Delete(manifest);
  pthread_mutex_lock(&h->load_lock);
  m->loaded = rc == 0;
  m->stale = 0;
  pthread_mutex_unlock(&h->load_lock);
  return rc;
}

/* ---- running engine requests ---- */

static void job_run(host *h, job *j) {
  pthread_mutex_lock(&h->io.out_lock);
  int answered = j->answered; /* cancelled before it started */
  pthread_mutex_unlock(&h->io.out_lock);
  if (answered) return;
  loaded_model *m = j->model[0] ? model_entry(h, j->model) : NULL;
  if (m) {
    pthread_mutex_lock(&m->run);
    sotto_error e = {0};
    if (model_ready(h, m, &e) != 0) {
      pthread_mutex_unlock(&m->run);
      job_answer_error(j, e.status ? e.status : SOTTO_INTERNAL, e.message);
      return;
    }
  }
  pthread_rwlock_rdlock(&h->engine_lock);
  char *out = h->engine(h->ctx, j->text, job_partial, j);
  pthread_rwlock_unlock(&h->engine_lock);
  if (m) pthread_mutex_unlock(&m->run);
  if (out) job_answer(j, out);
  else job_answer_error(j, SOTTO_OUT_OF_MEMORY, "out of memory");
  sotto_string_free(out);
}

static void *worker_main(void *arg) {
  host *h = arg;
  pthread_mutex_lock(&h->lock);
  for (;;) {
    job *j = h->jobs;
    while (j && j->state != JOB_QUEUED) j = j->next;
    if (!j) {
      if (h->stopping) break;
      pthread_cond_wait(&h->cv, &h->lock);
      continue;
    }
    j->state = JOB_RUNNING;
    pthread_mutex_unlock(&h->lock);
    job_run(h, j);
    pthread_mutex_lock(&h->lock);
    for (job **p = &h->jobs; *p; p = &(*p)->next)
      if (*p == j) {
        *p = j->next;
        break;
      }
    h->n_jobs--;
    job_free(j);
  }
  pthread_mutex_unlock(&h->lock);
  return NULL;
}

/* ---- host ops ---- */

/* ---- host ops ---- */

static int req_str(const cJSON *req, const char *key, int required, const char **out,
                   sotto_error *e) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
  *out = NULL;
  if (!v || cJSON_IsNull(v)) return required ? sotto_error_set(e, SOTTO_BAD_REQUEST, "\"%s\" is required", key) : 0;
  if (!cJSON_IsString(v)) return sotto_error_set(e, SOTTO_BAD_REQUEST, "\"%s\" must be a string", key);
  *out = v->valuestring;
  return 0;
}

static int req_model(const cJSON *req, const char **id, sotto_error *e) {
  if (req_str(req, "model", 1, id, e) != 0) return -1;
  if (!sotto_store_id_valid(*id))
    return sotto_error_set(e, SOTTO_BAD_REQUEST, "model ids are [a-z0-9][a-z0-9._-]{0,63}");
  return 0;
}

static int need_store(host *h, sotto_error *e) {
  if (h->store_ok) return 0;
  *e = h->store_err;
  return -1;
}

static cJSON *op_models_list(host *h, const cJSON *req, sotto_error *e) {
  (void)req;
  if (need_store(h, e) != 0) return NULL;
  cJSON *list = store_list(&h->store, e);
  if (!list) return NULL;
  const cJSON *m;
  pthread_mutex_lock(&h->load_lock);
  cJSON_ArrayForEach(m, list) {
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "id"));
    loaded_model *l = id ? loaded_find(h, id) : NULL;
    cJSON_AddBoolToObject((cJSON *)m, "loaded", l && l->loaded && !l->stale);
  }
  pthread_mutex_unlock(&h->load_lock);
  cJSON *r = cJSON_CreateObject();
  cJSON_AddItemToObject(r, "models", list);
  return r;
}

static cJSON *host_op_names(void); /* below the op table */

static cJSON *op_hello(host *h, const cJSON *req, sotto_error *e) {
  (void)req;
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "host", HOST_NAME);
  cJSON_AddStringToObject(r, "version", sotto_version());
  cJSON_AddNumberToObject(r, "protocol", HOST_PROTOCOL);
  cJSON_AddStringToObject(r, "caller", h->caller);
  char *caps = sotto_request(h->ctx, "{\"op\":\"capabilities\"}");
  cJSON *c = caps ? cJSON_Parse(caps) : NULL;
  sotto_string_free(caps);
  cJSON *res = cJSON_DetachItemFromObjectCaseSensitive(c, "result");
  cJSON_AddItemToObject(r, "capabilities", res ? res : cJSON_CreateNull());
  cJSON_Delete(c);
  cJSON_AddItemToObject(r, "host_ops", host_op_names());
  cJSON *lim = cJSON_AddObjectToObject(r, "limits");
  cJSON_AddNumberToObject(lim, "max_message_in", (double)h->io.cfg.max_in);
  cJSON_AddNumberToObject(lim, "max_message_out", (double)h->io.cfg.max_out);
  cJSON_AddNumberToObject(lim, "install_chunk_bytes", INSTALL_CHUNK);
  cJSON_AddNumberToObject(lim, "max_jobs", h->io.cfg.max_jobs);
  cJSON_AddNumberToObject(lim, "workers", h->n_workers);
  cJSON *st = cJSON_AddObjectToObject(r, "store");
  sotto_error le = {0};
  cJSON *models = op_models_list(h, NULL, &le);
  cJSON_AddStringToObject(st, "mode", h->store.passphrase_mode ? "passphrase" : "key");
  cJSON_AddBoolToObject(st, "locked", le.status == SOTTO_STORE_LOCKED);
  if (models) {
    cJSON_AddItemToObject(r, "models", cJSON_DetachItemFromObjectCaseSensitive(models, "models"));
    cJSON_Delete(models);
  } else {
    cJSON_AddItemToObject(r, "models", cJSON_CreateArray());
    cJSON_AddStringToObject(st, "error", le.message);
  }
  (void)e;
  return r;
}

static install_slot *install_find(host *h, const char *id) {
  for (int i = 0; i < MAX_INSTALLS; i++)
    if (h->installs[i].in && strcmp(store_install_id(h->installs[i].in), id) == 0)
      return &h->installs[i];
  return NULL;
}

static cJSON *op_install_begin(host *h, const cJSON *req, sotto_error *e) {
  const char *id, *format, *sha, *task, *source, *runs_in;
  const cJSON *size = cJSON_GetObjectItemCaseSensitive(req, "size");
  if (need_store(h, e) != 0 || req_model(req, &id, e) != 0 ||
      req_str(req, "format", 1, &format, e) != 0 || req_str(req, "sha256", 1, &sha, e) != 0 ||
      req_str(req, "task", 0, &task, e) != 0 || req_str(req, "source", 0, &source, e) != 0 ||
      req_str(req, "runs_in", 0, &runs_in, e) != 0)
    return NULL;
  if (!cJSON_IsNumber(size) || size->valuedouble < 0 || size->valuedouble > 9007199254740992.0 ||
      size->valuedouble != (double)(uint64_t)size->valuedouble)
    return sotto_error_set(e, SOTTO_BAD_REQUEST, "\"size\" must be the model's size in bytes"), NULL;
  char lower[65];
  if (strlen(sha) != 64) return sotto_error_set(e, SOTTO_BAD_REQUEST, "\"sha256\" must be 64 hex digits"), NULL;
  for (int i = 0; i <= 64; i++) lower[i] = (char)(sha[i] >= 'A' && sha[i] <= 'F' ? sha[i] + 32 : sha[i]);
  install_slot *slot = install_find(h, id);
  if (slot) { /* a restarted download replaces the unfinished one */
    store_install_abort(slot->in);
    slot->in = NULL;
  }
  for (int i = 0; !slot && i < MAX_INSTALLS; i++)
    if (!h->installs[i].in) slot = &h->installs[i];
  if (!slot) return sotto_error_set(e, SOTTO_BUSY, "%d installs are already in progress", MAX_INSTALLS), NULL;
  cJSON *m = cJSON_CreateObject();
  cJSON_AddStringToObject(m, "id", id);
  cJSON_AddStringToObject(m, "format", format);
  if (task) cJSON_AddStringToObject(m, "task", task);
  cJSON_AddNumberToObject(m, "size", size->valuedouble);
  cJSON_AddStringToObject(m, "sha256", lower);
  if (source) cJSON_AddStringToObject(m, "source", source);
  if (runs_in) cJSON_AddStringToObject(m, "runs_in", runs_in);
  slot->in = store_install_begin(&h->store, m, e);
  cJSON_Delete(m);
  if (!slot->in) return NULL;
  slot->next_seq = 0;
  host_log("install of %s started (%.0f bytes)", id, size->valuedouble);
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "model", id);
  cJSON_AddNumberToObject(r, "chunk_bytes", INSTALL_CHUNK);
  cJSON_AddNumberToObject(r, "next_seq", 0);
  cJSON_AddNumberToObject(r, "done", 0);
  cJSON_AddNumberToObject(r, "total", size->valuedouble);
  return r;
}

/* The install a chunk/end/abort names; an error in it ends the install. */
static install_slot *install_of(host *h, const cJSON *req, sotto_error *e) {
  const char *id;
  if (req_model(req, &id, e) != 0) return NULL;
  install_slot *slot = install_find(h, id);
  if (!slot) sotto_error_set(e, SOTTO_NO_INSTALL, "no install of \"%s\" is in progress", id);
  return slot;
}

static void install_drop(install_slot *slot) {
  store_install_abort(slot->in);
  slot->in = NULL;
}

static cJSON *op_install_chunk(host *h, const cJSON *req, sotto_error *e) {
  install_slot *slot = install_of(h, req, e);
  if (!slot) return NULL;
  const cJSON *seq = cJSON_GetObjectItemCaseSensitive(req, "seq");
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(req, "data");
  if (!cJSON_IsNumber(seq) || seq->valuedouble != slot->next_seq) {
    sotto_error_set(e, SOTTO_BAD_SEQUENCE, "expected chunk %.0f; the install is aborted", slot->next_seq);
    install_drop(slot);
    return NULL;
  }
  if (!cJSON_IsString(data)) {
    sotto_error_set(e, SOTTO_BAD_REQUEST, "\"data\" (base64) is required; the install is aborted");
    install_drop(slot);
    return NULL;
  }
  size_t b64 = strlen(data->valuestring), len = 0;
  uint8_t *bin = malloc(b64 / 4 * 3 + 3);
  if (!bin || sodium_base642bin(bin, b64 / 4 * 3 + 3, data->valuestring, b64, NULL, &len, NULL,
                                sodium_base64_VARIANT_ORIGINAL) != 0) {
    free(bin);
    sotto_error_set(e, SOTTO_BAD_REQUEST, "\"data\" is not base64; the install is aborted");
    install_drop(slot);
    return NULL;
  }
  int rc = store_install_write(slot->in, bin, len, e);
  free(bin);
  if (rc != 0) {
    install_drop(slot);
    return NULL;
  }
  slot->next_seq++;
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "model", store_install_id(slot->in));
  cJSON_AddNumberToObject(r, "done", (double)store_install_done(slot->in));
  cJSON_AddNumberToObject(r, "total", (double)store_install_total(slot->in));
  return r;
}

static cJSON *op_install_end(host *h, const cJSON *req, sotto_error *e) {
  install_slot *slot = install_of(h, req, e);
  if (!slot) return NULL;
  char id[65];
  snprintf(id, sizeof id, "%s", store_install_id(slot->in));
  double total = (double)store_install_total(slot->in);
  int rc = store_install_end(slot->in, e); /* frees it */
  slot->in = NULL;
  if (rc != 0) return NULL;
  model_stale(h, id);
  host_log("installed model %s", id);
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "model", id);
  cJSON_AddBoolToObject(r, "installed", 1);
  cJSON_AddNumberToObject(r, "done", total);
  cJSON_AddNumberToObject(r, "total", total);
  return r;
}

static cJSON *op_install_abort(host *h, const cJSON *req, sotto_error *e) {
  install_slot *slot = install_of(h, req, e);
  if (!slot) return NULL;
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "model", store_install_id(slot->in));
  cJSON_AddBoolToObject(r, "aborted", 1);
  install_drop(slot);
  return r;
}

static cJSON *op_delete(host *h, const cJSON *req, sotto_error *e) {
  const char *id;
  if (need_store(h, e) != 0 || req_model(req, &id, e) != 0) return NULL;
  if (store_delete(&h->store, id, e) != 0) return NULL;
  model_stale(h, id);
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "model", id);
  cJSON_AddBoolToObject(r, "deleted", 1);
  return r;
}

static cJSON *op_unlock(host *h, const cJSON *req, sotto_error *e) {
  const char *pass;
  if (need_store(h, e) != 0 || req_str(req, "passphrase", 1, &pass, e) != 0) return NULL;
  if (store_unlock(&h->store, pass, strlen(pass), e) != 0) return NULL;
  cJSON *r = cJSON_CreateObject();
  cJSON_AddBoolToObject(r, "unlocked", 1);
  return r;
}

static cJSON *op_cancel(host *h, const cJSON *req, sotto_error *e) {
  const cJSON *target = cJSON_GetObjectItemCaseSensitive(req, "target");
  if (!cJSON_IsString(target) && !cJSON_IsNumber(target))
    return sotto_error_set(e, SOTTO_BAD_REQUEST, "\"target\" must be the id of a request"), NULL;
  char *key = cJSON_PrintUnformatted(target);
  job *found = NULL, *queued = NULL;
  pthread_mutex_lock(&h->lock);
  for (job **p = &h->jobs; key && *p; p = &(*p)->next) {
    if (strcmp((*p)->id_key, key) != 0) continue;
    found = *p;
    if (found->state == JOB_QUEUED) { /* never started: take it out */
      queued = found;
      *p = found->next;
      h->n_jobs--;
    }
    break;
  }
  /* A running job is answered now; its worker sees it answered and stops
   * at its next partial result (or drops its result). The answer is sent
   * under the job lock so the worker cannot free the job meanwhile. */
  int cancelled = found && job_answer_error(found, SOTTO_CANCELLED, "the request was cancelled");
  pthread_mutex_unlock(&h->lock);
  job_free(queued);
  cJSON_free(key);
  cJSON *r = cJSON_CreateObject();
  cJSON_AddItemToObject(r, "target", cJSON_Duplicate(target, 1));
  cJSON_AddBoolToObject(r, "cancelled", cancelled);
  return r;
}

/* The host's own ops, one row per op function; any other op is the
 * engine's. "cancel" is shared with the browser engine: it stops the
 * request whose id is its "target", wherever that request runs. */
static const struct {
  const char *op;
  cJSON *(*fn)(host *h, const cJSON *req, sotto_error *e);
} host_ops[] = {
    {"host.hello", op_hello},
    {"host.models.list", op_models_list},
    {"host.models.install.begin", op_install_begin},
    {"host.models.install.chunk", op_install_chunk},
    {"host.models.install.end", op_install_end},
    {"host.models.install.abort", op_install_abort},
    {"host.models.delete", op_delete},
    {"host.store.unlock", op_unlock},
    {"cancel", op_cancel},
};

static cJSON *host_op_names(void) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; i < sizeof host_ops / sizeof host_ops[0]; i++)
    cJSON_AddItemToArray(a, cJSON_CreateString(host_ops[i].op));
  return a;
}

/* ---- one message from the browser ---- */

void host_message(host *h, uint8_t *msg, size_t len) {
  sotto_error e = {0};
  cJSON *req = NULL, *result = NULL;
  const cJSON *id = NULL;
  int utf8 = host_utf8_valid(msg, len);
  const char *end = NULL;
  req = cJSON_ParseWithLengthOpts((const char *)msg, len, &end, 0);
  while (req && end < (const char *)msg + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
    end++;
  if (!req || end != (const char *)msg + len) {
    host_send_error(h, NULL, utf8 ? SOTTO_BAD_JSON : SOTTO_BAD_UTF8,
                    utf8 ? "the message is not valid JSON" : "the message is not valid UTF-8");
    goto done;
  }
  id = cJSON_GetObjectItemCaseSensitive(req, "id");
  if (!cJSON_IsObject(req)) {
    host_send_error(h, NULL, SOTTO_BAD_REQUEST, "a request must be a JSON object");
    goto done;
  }
  /* Every message about the request echoes its id, chunk messages too: its
   * JSON text (escapes counted) must leave room in the smallest message. */
  char *id_text = cJSON_IsString(id) ? cJSON_PrintUnformatted(id) : NULL;
  size_t id_len = id_text ? strlen(id_text) : 0;
  cJSON_free(id_text);
  if (id && !((cJSON_IsString(id) && id_len > 0 && id_len <= HOST_ID_MAX + 2) ||
              cJSON_IsNumber(id) || cJSON_IsNull(id))) {
    host_send_error(h, NULL, SOTTO_BAD_REQUEST,
                    "\"id\" must be a number or a string of up to 256 bytes as JSON text");
    goto done;
  }
  if (!utf8) {
    host_send_error(h, id, SOTTO_BAD_UTF8, "the message is not valid UTF-8");
    goto done;
  }
  const cJSON *op = cJSON_GetObjectItemCaseSensitive(req, "op");
  if (!cJSON_IsString(op)) {
    host_send_error(h, id, SOTTO_BAD_REQUEST, "\"op\" (a string) is required");
    goto done;
  }
  for (size_t i = 0; i < sizeof host_ops / sizeof host_ops[0]; i++) {
    if (strcmp(op->valuestring, host_ops[i].op) != 0) continue;
    result = host_ops[i].fn(h, req, &e);
    if (result) host_send_result(h, id, result);
    else host_send_error(h, id, e.status ? e.status : SOTTO_INTERNAL, e.message);
    goto done;
  }

  /* An engine request: checked here, run by a worker. */
  const cJSON *model = cJSON_GetObjectItemCaseSensitive(req, "model");
  if (model && !cJSON_IsNull(model) && (!cJSON_IsString(model) || !sotto_store_id_valid(model->valuestring))) {
    host_send_error(h, id, SOTTO_BAD_REQUEST, "\"model\" must be a model id: [a-z0-9][a-z0-9._-]{0,63}");
    goto done;
  }
  job *j = calloc(1, sizeof *j);
  if (!j || !(j->id = id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull()) ||
      !(j->id_key = cJSON_PrintUnformatted(j->id))) {
    job_free(j);
    host_send_error(h, id, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  j->h = h;
  j->text = (char *)msg;
  msg = NULL;
  /* The model it runs: the one named, else the engine's default for its
   * task (or op), which is loaded from the store when installed there. */
  const cJSON *task = cJSON_GetObjectItemCaseSensitive(req, "task");
  const char *mid = cJSON_IsString(model) ? model->valuestring
                    : sotto_model_default(cJSON_IsString(task) ? task->valuestring : op->valuestring);
  if (mid) snprintf(j->model, sizeof j->model, "%s", mid);
  if (h->n_workers == 0) { /* no threads: run it now */
    job_run(h, j);
    job_free(j);
    goto done;
  }
  pthread_mutex_lock(&h->lock);
  sotto_status refuse = SOTTO_OK;
  job **tail = &h->jobs;
  for (; *tail; tail = &(*tail)->next)
    if (!cJSON_IsNull(j->id) && strcmp((*tail)->id_key, j->id_key) == 0)
      refuse = SOTTO_DUPLICATE_ID;
  if (!refuse && h->n_jobs >= h->io.cfg.max_jobs) refuse = SOTTO_BUSY;
  if (!refuse) {
    *tail = j;
    h->n_jobs++;
    pthread_cond_signal(&h->cv);
  }
  pthread_mutex_unlock(&h->lock);
  if (refuse) {
    char m[128];
    if (refuse == SOTTO_BUSY)
      snprintf(m, sizeof m, "%d requests are in progress; try again later", h->io.cfg.max_jobs);
    else
      snprintf(m, sizeof m, "a request with this id is still in progress");
    host_send_error(h, id, refuse, m);
    job_free(j);
  }
done:
  cJSON_Delete(req);
  free(msg);
}

/* ---- life cycle ---- */

host *host_create(const host_config *cfg, sotto_context *ctx, host_write_fn write, void *user,
                  const char *caller) {
  host *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  h->io.cfg = *cfg;
  if (!h->io.cfg.max_in || h->io.cfg.max_in > HOST_MAX_IN_LIMIT) h->io.cfg.max_in = HOST_MAX_IN_DEFAULT;
  if (!h->io.cfg.max_out || h->io.cfg.max_out > HOST_MAX_OUT_DEFAULT)
    h->io.cfg.max_out = HOST_MAX_OUT_DEFAULT;
  if (h->io.cfg.max_out < HOST_MAX_OUT_MIN) h->io.cfg.max_out = HOST_MAX_OUT_MIN;
  if (h->io.cfg.max_jobs <= 0) h->io.cfg.max_jobs = 32;
  h->io.write = write;
  h->io.write_user = user;
  h->engine = sotto_request_stream;
  pthread_mutex_init(&h->io.out_lock, NULL);
  snprintf(h->caller, sizeof h->caller, "%s", caller ? caller : "");
  pthread_mutex_init(&h->lock, NULL);
  pthread_cond_init(&h->cv, NULL);
  pthread_rwlock_init(&h->engine_lock, NULL);
  pthread_mutex_init(&h->load_lock, NULL);
  if (sotto_store_init() != 0) host_log("libsodium failed to initialise");
  h->store_ok = store_setup(&h->store, &h->store_err) == 0;
  if (!h->store_ok) host_log("model store unavailable: %s", h->store_err.message);
  h->ctx = ctx;
  if (!h->ctx) {
    sotto_config ec = {.threads = cfg->threads, .memory_budget = cfg->memory_budget};
    h->ctx = sotto_context_create(&ec);
    h->own_ctx = 1;
    if (!h->ctx) {
      host_log("cannot initialise the engine");
      host_destroy(h);
      return NULL;
    }
  }
  int n = cfg->workers < 0 ? 0 : cfg->workers > 16 ? 16 : cfg->workers;
  h->workers = n ? calloc((size_t)n, sizeof *h->workers) : NULL;
  for (int i = 0; i < n && h->workers; i++)
    if (pthread_create(&h->workers[i], NULL, worker_main, h) == 0) h->n_workers++;
  return h;
}

void host_finish(host *h) {
  if (!h) return;
  if (h->io.msg || h->io.hdr_len) {
    host_log("input ended inside a message");
    host_send_error(h, NULL, SOTTO_BAD_FRAME, "the input ended inside a message");
  }
  free(h->io.msg);
  h->io.msg = NULL;
  h->io.hdr_len = 0;
  /* No more input. The requests already received are finished and
   * answered while the browser still reads; once it does not (the output
   * is closed), the rest are dropped and the running ones stop at their
   * next partial result. */
  pthread_mutex_lock(&h->lock);
  h->stopping = 1;
  pthread_mutex_lock(&h->io.out_lock);
  int dead = h->io.out_dead;
  pthread_mutex_unlock(&h->io.out_lock);
  for (job **p = &h->jobs; dead && *p;) {
    job *j = *p;
    if (j->state == JOB_QUEUED) {
      *p = j->next;
      h->n_jobs--;
      job_free(j);
      continue;
    }
    pthread_mutex_lock(&h->io.out_lock);
    j->answered = 1;
    pthread_mutex_unlock(&h->io.out_lock);
    p = &j->next;
  }
  pthread_cond_broadcast(&h->cv);
  pthread_mutex_unlock(&h->lock);
  for (int i = 0; i < h->n_workers; i++) pthread_join(h->workers[i], NULL);
  h->n_workers = 0;
  for (int i = 0; i < MAX_INSTALLS; i++)
    if (h->installs[i].in) {
      host_log("install of %s aborted: the port closed", store_install_id(h->installs[i].in));
      install_drop(&h->installs[i]);
    }
}

void host_destroy(host *h) {
  if (!h) return;
  host_finish(h);
  free(h->workers);
  if (h->own_ctx) sotto_context_destroy(h->ctx);
  for (int i = 0; i < h->n_loaded; i++) {
    pthread_mutex_destroy(&h->loaded[i]->run);
    free(h->loaded[i]);
  }
  free(h->loaded);
  if (h->store_ok) store_cleanup(&h->store);
  pthread_rwlock_destroy(&h->engine_lock);
  pthread_mutex_destroy(&h->load_lock);
  pthread_cond_destroy(&h->cv);
  pthread_mutex_destroy(&h->lock);
  pthread_mutex_destroy(&h->io.out_lock);
  free(h);
}
