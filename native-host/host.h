/*
 * host.h - what the native messaging host's files share.
 *
 *   frames.c  the wire: 32-bit native-endian length + UTF-8 JSON, both ways;
 *             incoming frames are parsed incrementally (host_feed), outgoing
 *             ones are split into chunk messages when over the size limit
 *   host.c    requests: host ops, the job queue, worker threads, cancel,
 *             models loaded from the store on demand
 *   modelstore.c  the encrypted model store on disk: paths, key file,
 *             atomic installs, listing, loading, deleting
 *   main.c    the program: caller check, stdin/stdout, command line
 *
 * The protocol core never touches stdin or stdout itself: main.c (or a
 * fuzzer) feeds it bytes and gives it a function that writes frames.
 */
#ifndef SOTTO_HOST_H
#define SOTTO_HOST_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "cJSON.h"
#include "sotto.h"

#define HOST_NAME "org.sotto.host"
#define HOST_PROTOCOL 1
#define HOST_MAX_IN_DEFAULT (8u << 20)    /* browser -> host; Chrome allows 64 MiB */
#define HOST_MAX_IN_LIMIT (64u << 20)
#define HOST_MAX_OUT_DEFAULT 1000000u     /* host -> browser; both browsers cap at 1 MB */
#define HOST_MAX_OUT_MIN 1024u
#define HOST_ID_MAX 256                   /* longest string id echoed back, in bytes of JSON text */

/* Errors are the engine's (sotto_error, sotto_error_set, sotto.h). */

void host_log(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* ---- the encrypted model store on disk (modelstore.c) ---- */
enum { KEY_UNKNOWN, KEY_READY, KEY_LOCKED };

typedef struct host_store {
  char dir[4096];        /* models: <dir>/<id>.sotto */
  char key_path[4096];   /* key file, 0600 */
  int key_state;
  int passphrase_mode;
  uint8_t key[SOTTO_STORE_KEYBYTES];
  uint8_t salt[SOTTO_STORE_SALTBYTES], check[16];
  uint32_t ops, mem_kib;
  pthread_mutex_t lock;  /* key state */
} host_store;

/* Finds the store's folders (XDG / macOS), creates them 0700 and removes
 * temp files left by installs that died. */
int store_setup(host_store *s, sotto_error *e);
void store_cleanup(host_store *s);
/* Makes the key available: reads the key file, creating a random key on
 * first use; a passphrase store stays locked until store_unlock. */
int store_key(host_store *s, sotto_error *e);
int store_unlock(host_store *s, const char *passphrase, size_t len, sotto_error *e);
/* Creates a passphrase key file; fails when a key file already exists. */
int store_init_passphrase(host_store *s, const char *passphrase, size_t len, sotto_error *e);

/* [{id, format, task, size, sha256, source, runs_in}] or {id, error} for a
 * file that cannot be read. */
cJSON *store_list(host_store *s, sotto_error *e);
int store_exists(host_store *s, const char *id);
/* Decrypts and verifies a whole model; *plain is freed with free(). */
int store_load(host_store *s, const char *id, uint8_t **plain, size_t *len, cJSON **manifest,
               sotto_error *e);
int store_delete(host_store *s, const char *id, sotto_error *e);

typedef struct store_install store_install;
/* manifest: {id, format, size, sha256, task?, source?}. Writes to a locked
 * temp file in the store folder; only store_install_end makes it a model
 * (fsync + rename), so a crash never leaves half a model. */
store_install *store_install_begin(host_store *s, const cJSON *manifest, sotto_error *e);
int store_install_write(store_install *in, const void *data, size_t len, sotto_error *e);
int store_install_end(store_install *in, sotto_error *e); /* frees in */
void store_install_abort(store_install *in);          /* frees in */
uint64_t store_install_done(const store_install *in);
uint64_t store_install_total(const store_install *in);
const char *store_install_id(const store_install *in);

/* ---- the protocol core (host.c, frames.c) ---- */

/* Writes one complete frame (length prefix included); nonzero = the port is
 * gone. Called with the output lock held, so frames never interleave. */
typedef int (*host_write_fn)(void *user, const uint8_t *frame, size_t len);

typedef struct host_config {
  size_t max_in;        /* largest message accepted from the browser */
  size_t max_out;       /* largest message sent to the browser */
  int workers;          /* worker threads; 0 = run requests on the caller's thread */
  int max_jobs;         /* requests queued or running at once */
  int threads;          /* engine thread pool size; 0 = one per core */
  size_t memory_budget; /* models over it are refused (over_budget); 0 = no limit */
} host_config;

typedef struct host host;

/* Creates the protocol core. ctx may be an existing engine context (kept by
 * the caller) or NULL to create one. caller is the browser's origin or
 * add-on id, for "hello". */
host *host_create(const host_config *cfg, sotto_context *ctx, host_write_fn write, void *user,
                  const char *caller);
/* Feeds bytes read from the browser. Returns 0 to go on, -1 when the stream
 * cannot continue (an impossible length prefix, or the port closed). */
int host_feed(host *h, const uint8_t *data, size_t len);
/* End of input: a frame cut short is reported, in-flight requests are
 * cancelled and the workers joined. */
void host_finish(host *h);
void host_destroy(host *h);

/* frames.c: sending. Sends json (a complete message with "id") as one frame,
 * or as chunk messages when it is too large. Takes the output lock. */
int host_send(host *h, const cJSON *id, const char *json);
/* Same, with the output lock already held. */
int host_send_locked(host *h, const cJSON *id, const char *json);
/* {"id":id,"error":{"code":..,"message":..}} */
int host_send_error(host *h, const cJSON *id, sotto_status status, const char *message);
/* {"id":id,"result":result}; takes ownership of result. */
int host_send_result(host *h, const cJSON *id, cJSON *result);

/* frames.c: 1 when the bytes are valid UTF-8 without NUL. */
int host_utf8_valid(const uint8_t *s, size_t n);

/* host.c: one complete message from the browser. */
void host_message(host *h, uint8_t *msg, size_t len);

/* The parts of struct host that frames.c needs. */
struct host_io {
  host_config cfg;
  host_write_fn write;
  void *write_user;
  pthread_mutex_t out_lock;
  int out_dead;
  /* incoming frame being assembled */
  uint8_t hdr[4];
  size_t hdr_len;
  uint8_t *msg;
  size_t msg_len, msg_got;
  uint64_t skip;       /* bytes of an oversized frame still to discard */
  int broken;
};
struct host_io *host_io(host *h);

#endif /* SOTTO_HOST_H */
