/* store.h - where checkpoints live: RocksDB on disk, or memory.
 *
 * A store holds many runs. Each run has a record (status, latest
 * checkpoint, lineage) and checkpoints "RUN@SUPERSTEP". Checkpoints are
 * incremental: a state value is stored only in the superstep that
 * changed it, and reading a checkpoint resolves every key to its newest
 * version at or before it (following a fork to its parent run).
 *
 * One process writes a store at a time (RocksDB's lock; a second writer
 * gets CAIRN_ELOCKED naming the pid that holds it). Readers open it
 * read-only (a RocksDB secondary) and work while a run is live.
 *
 * Threading: a store is used by one thread at a time.
 */
#ifndef CAIRN_STORE_H_INCLUDED
#define CAIRN_STORE_H_INCLUDED

#include <stdio.h>

#include "common.h"
#include "error.h"
#include "message.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_store_t cairn_store_t;
typedef struct cairn_checkpoint_t cairn_checkpoint_t;

typedef enum {
    CAIRN_DURABILITY_NONE = 0, /* memory only: nothing survives */
    CAIRN_DURABILITY_PROCESS,  /* WAL, no fsync: survives a killed process */
    CAIRN_DURABILITY_MACHINE,  /* fsync per checkpoint: survives power loss */
} cairn_durability_t;

/* "none", "process", "machine"; never NULL. */
CAIRN_EXPORT const char *
cairn_durability_name(cairn_durability_t durability);

/* Parses a durability name; CAIRN_EINVAL when unknown. */
CAIRN_EXPORT int
cairn_durability_parse(const char *name, cairn_durability_t *out)
    CAIRN_WARN_UNUSED;

#define CAIRN_CHECKPOINT_ID_MAX 96 /* "RUN@SUPERSTEP" and its NUL */

typedef struct {
    cairn_durability_t durability; /* PROCESS or MACHINE for a dir store */
    bool read_only;                /* inspect only; works beside a writer */
} cairn_store_options_t;

/* Opens (creating it if needed, unless read_only) the RocksDB store in
 * dir. Fails with CAIRN_ELOCKED when another process writes it,
 * CAIRN_ENOTFOUND when read_only and there is no store, CAIRN_EFORMAT when
 * it was written by a newer cairn. opts may be NULL (process, writable).
 * Caller owns the result. */
CAIRN_EXPORT int
cairn_store_open(cairn_store_t **out, const char *dir,
                 const cairn_store_options_t *opts, cairn_error_t *err)
    CAIRN_WARN_UNUSED;

/* A new empty store in memory (durability none). */
CAIRN_EXPORT int
cairn_store_open_memory(cairn_store_t **out, cairn_error_t *err)
    CAIRN_WARN_UNUSED;

/* Another handle on the open RocksDB store `store`, for use by another
 * thread: a store handle is used by one thread at a time, but RocksDB
 * itself is thread-safe, so one process can drive several runs of one
 * store at once, each with its own handle (cairn recover does). store
 * must outlive the handle. CAIRN_EINVAL for a memory store. */
CAIRN_EXPORT int
cairn_store_share(cairn_store_t **out, cairn_store_t *store,
                  cairn_error_t *err) CAIRN_WARN_UNUSED;

CAIRN_EXPORT void
cairn_store_destroy(cairn_store_t **self_p);

CAIRN_EXPORT cairn_durability_t
cairn_store_durability(const cairn_store_t *self);

/* Makes this handle's checkpoints synced (MACHINE) or not (PROCESS) from
 * now on, e.g. to resume a run with the durability it was started with.
 * Other handles on the store keep theirs. CAIRN_EINVAL for a memory
 * store or CAIRN_DURABILITY_NONE. */
CAIRN_EXPORT int
cairn_store_set_durability(cairn_store_t *self, cairn_durability_t durability,
                           cairn_error_t *err) CAIRN_WARN_UNUSED;

/* A read-only store sees what the writer committed since it was opened
 * (or last refreshed). */
CAIRN_EXPORT int
cairn_store_refresh(cairn_store_t *self, cairn_error_t *err)
    CAIRN_WARN_UNUSED;

/* ---- runs -------------------------------------------------------------- */

/* What the store knows about a run. Strings are owned by the info and
 * freed with it (cairn_run_info_destroy). */
typedef struct {
    char *id;
    char *workflow;
    char *status;            /* running, completed, waiting, failed, ... */
    char *latest_checkpoint; /* "" when none */
    char *parent;            /* checkpoint it was forked from, or "" */
    char *error;             /* why it failed, or "" */
    char *reason;            /* e.g. "max_supersteps", or "" */
    uint64_t superstep;
    uint64_t created_ms;
    uint64_t updated_ms;
    int64_t pid;             /* process that drives (drove) it */
    uint64_t pid_start;      /* that process's start time, for liveness */
    uint8_t *spec;           /* the spec it was started from (CLI) */
    size_t spec_len;
    char **plugins;          /* absolute paths (as given, in records
                                written before cairn kept them so) */
    char **plugin_sha256;    /* per plugin: SHA-256 of its file when the
                                run started (hex), "" when not recorded */
    size_t plugin_count;
    uint64_t max_supersteps; /* the run's limit (a resume keeps it) */
    char *checkpoint_policy; /* every, every:N, on-error, manual, none,
                                predicate; "" when not recorded */
    size_t keep_events;      /* as the run was given it (0: the default,
                                CAIRN_KEEP_NO_EVENTS: none) */
    char *durability;        /* the store's when the run was written:
                                process or machine; "" when not recorded */
    char *events_endpoint;   /* where the live run publishes its events
                                (ipc://...), or "" */
    char *control_endpoint;  /* where a live run answers Control requests
                                (control.h), or "" */
} cairn_run_info_t;

/* All runs, sorted by id (time-ordered for generated ids). Caller owns
 * the result: free it with cairn_run_info_destroy(&runs, count). */
CAIRN_EXPORT int
cairn_store_list_runs(cairn_store_t *self, cairn_run_info_t **out,
                      size_t *count, cairn_error_t *err) CAIRN_WARN_UNUSED;

/* One run; CAIRN_ENOTFOUND naming it when unknown. Caller owns the
 * result: free it with cairn_run_info_destroy(&info, 1). */
CAIRN_EXPORT int
cairn_store_get_run(cairn_store_t *self, const char *run_id,
                    cairn_run_info_t **out, cairn_error_t *err)
    CAIRN_WARN_UNUSED;

/* Frees count run infos (what list_runs / get_run returned). Accepts
 * NULL; nulls *infos_p. */
CAIRN_EXPORT void
cairn_run_info_destroy(cairn_run_info_t **infos_p, size_t count);

/* Whether the process recorded as driving the run (pid and its start
 * time, so a reused pid does not count) is still running. A run whose
 * status is "running" but whose process is gone was interrupted. */
CAIRN_EXPORT bool
cairn_run_process_alive(const cairn_run_info_t *info);

/* Deletes a run: its record, checkpoints, state, outputs. Runs forked
 * from it keep working only if exported first; deleting a run that has
 * forks fails with CAIRN_ESTATE. */
CAIRN_EXPORT int
cairn_store_delete_run(cairn_store_t *self, const char *run_id,
                       cairn_error_t *err) CAIRN_WARN_UNUSED;

/* ---- checkpoints --------------------------------------------------------- */

/* A checkpoint's manifest, as listed (no state decoded). */
typedef struct {
    char *id;                /* "RUN@SUPERSTEP" */
    char *run_id;
    uint64_t superstep;
    char *parent;            /* previous checkpoint in the lineage, or "" */
    uint64_t timestamp_ms;
    char *trigger;           /* entry, policy, manual, pause, error,
                                max_supersteps, end, fork */
    char *status;
    char *workflow;
    char **tags;
    size_t tag_count;
    uint64_t size_bytes;     /* bytes of the write that stored it */
    uint64_t pending_messages;
} cairn_checkpoint_info_t;

/* A run's checkpoints, newest first; limit 0 = all; tag NULL = any.
 * CAIRN_ENOTFOUND when the run is unknown. Caller owns the result: free
 * it with cairn_checkpoint_info_destroy(&infos, count). */
CAIRN_EXPORT int
cairn_store_list_checkpoints(cairn_store_t *self, const char *run_id,
                             size_t limit, const char *tag,
                             cairn_checkpoint_info_t **out, size_t *count,
                             cairn_error_t *err) CAIRN_WARN_UNUSED;

/* Frees count checkpoint infos (what list_checkpoints returned). Accepts
 * NULL; nulls *infos_p. */
CAIRN_EXPORT void
cairn_checkpoint_info_destroy(cairn_checkpoint_info_t **infos_p,
                              size_t count);

/* Id of the run's newest checkpoint into out. */
CAIRN_EXPORT int
cairn_store_get_latest_checkpoint(cairn_store_t *self, const char *run_id,
                                  char out[CAIRN_CHECKPOINT_ID_MAX],
                                  cairn_error_t *err) CAIRN_WARN_UNUSED;

/* Loads a checkpoint ("RUN@N") with its resolved state, in-flight
 * messages and the outputs up to it. CAIRN_ENOTFOUND for an unknown id,
 * CAIRN_ECORRUPT naming the key for a damaged value. Caller owns the
 * result. */
CAIRN_EXPORT int
cairn_store_get_checkpoint(cairn_store_t *self, const char *checkpoint_id,
                           cairn_checkpoint_t **out, cairn_error_t *err)
    CAIRN_WARN_UNUSED;

/* Accepts NULL; nulls *self_p. */
CAIRN_EXPORT void
cairn_checkpoint_destroy(cairn_checkpoint_t **self_p);

/* The manifest of a loaded checkpoint. Borrowed; valid until the
 * checkpoint is destroyed. */
CAIRN_EXPORT const cairn_checkpoint_info_t *
cairn_checkpoint_info(const cairn_checkpoint_t *self);

/* State at the checkpoint: executor state (executor != NULL) or shared
 * (executor == NULL). NULL when absent. Borrowed; valid until the
 * checkpoint is destroyed. */
CAIRN_EXPORT const uint8_t *
cairn_checkpoint_state(const cairn_checkpoint_t *self, const char *executor,
                       const char *key, size_t *len);

/* Called for each state entry of a checkpoint or a result: executor
 * state (executor != NULL) or shared (executor NULL). Every pointer is
 * borrowed; valid until the callback returns. */
typedef void (*cairn_state_visit_fn)(const char *executor, const char *key,
                                     const uint8_t *value, size_t len,
                                     void *userdata);

/* Visits every state entry: executors in id order, then shared (NULL),
 * keys in bytewise order. */
CAIRN_EXPORT void
cairn_checkpoint_foreach_state(const cairn_checkpoint_t *self,
                               cairn_state_visit_fn fn, void *userdata);

/* Outputs yielded up to and including the checkpoint's superstep.
 * Borrowed; valid until the checkpoint is destroyed. */
CAIRN_EXPORT size_t
cairn_checkpoint_output_count(const cairn_checkpoint_t *self);
CAIRN_EXPORT const uint8_t *
cairn_checkpoint_output(const cairn_checkpoint_t *self, size_t index,
                        size_t *len);

/* Requests of the checkpoint still waiting for a response, in the order
 * they were made (see cairn_result_request). */
CAIRN_EXPORT size_t
cairn_checkpoint_request_count(const cairn_checkpoint_t *self);
CAIRN_EXPORT int
cairn_checkpoint_request(const cairn_checkpoint_t *self, size_t index,
                         cairn_request_t *out) CAIRN_WARN_UNUSED;

/* A message set aside at the checkpoint (on_failure dead-letter). Every
 * pointer: Borrowed; valid until the checkpoint is destroyed. */
typedef struct {
    const char *executor; /* the executor it failed */
    const char *error;    /* why its last attempt failed */
    uint64_t superstep;   /* when */
    const uint8_t *payload;
    size_t payload_len;
} cairn_dead_letter_t;

/* The dead letters of the checkpoint, oldest first. */
CAIRN_EXPORT size_t
cairn_checkpoint_dead_letter_count(const cairn_checkpoint_t *self);
CAIRN_EXPORT int
cairn_checkpoint_dead_letter(const cairn_checkpoint_t *self, size_t index,
                             cairn_dead_letter_t *out) CAIRN_WARN_UNUSED;

/* The messages in flight at the checkpoint (every executor's mail for
 * the next superstep and every fan-in buffer) in one canonical encoding:
 * mail sorted by executor id, fan-in buffers by edge and source, each
 * list in delivery order. Two checkpoints have the same messages in
 * flight exactly when these bytes are equal. Caller owns the result in
 * *out (free it with free()); CAIRN_ENOMEM on out-of-memory. */
CAIRN_EXPORT int
cairn_checkpoint_inflight_bytes(const cairn_checkpoint_t *self,
                                uint8_t **out, size_t *len) CAIRN_WARN_UNUSED;

/* ---- forks --------------------------------------------------------------- */

/* One state value a fork sets (bytes as given). */
typedef struct {
    const char *executor; /* executor id; NULL for shared state */
    const char *key;      /* non-empty */
    const uint8_t *value;
    size_t len;
} cairn_fork_state_t;

/* One message a fork adds to an executor's mail for the next superstep,
 * with source "" like the run input. */
typedef struct {
    const char *executor;
    const uint8_t *payload;
    size_t len;
} cairn_fork_message_t;

/* What a fork changes at its fork point. A later state change of the
 * same executor and key replaces an earlier one. */
typedef struct {
    const cairn_fork_state_t *states;
    size_t state_count;
    bool drop_messages; /* drop every mailbox and fan-in buffer first */
    const cairn_fork_message_t *sends; /* then add these */
    size_t send_count;
} cairn_fork_changes_t;

/* Creates a new run forked from checkpoint_id ("RUN@N") with the changes
 * applied, without a workflow or an engine: one atomic write of the new
 * run's record (copying the parent run's spec, plugins, signature, graph
 * and limits; parent = checkpoint_id) and its first checkpoint NEW@N
 * (trigger "fork", parent checkpoint_id) holding only the changed state
 * keys, as versions of NEW, and the in-flight messages after the
 * changes. Everything else is read from the parent's history
 * (copy-on-write). The new run's status is "paused" (resume continues
 * it), or "completed" when no message is left in flight.
 *
 * new_run_id NULL: a fresh time-ordered id. Everything is checked before
 * anything is written: a malformed or unknown checkpoint or run
 * (CAIRN_EINVAL / CAIRN_ENOTFOUND), a malformed new run id (CAIRN_EINVAL)
 * or one already in the store (CAIRN_EEXISTS), an executor the workflow
 * does not have or an empty key (CAIRN_EINVAL) leave the store
 * unchanged. A read-only store is CAIRN_ESTATE. The new checkpoint's id
 * goes to out_id. changes may be NULL (an unmodified fork). */
CAIRN_EXPORT int
cairn_store_fork(cairn_store_t *self, const char *checkpoint_id,
                 const char *new_run_id, const cairn_fork_changes_t *changes,
                 char out_id[CAIRN_CHECKPOINT_ID_MAX], cairn_error_t *err)
    CAIRN_WARN_UNUSED;

/* ---- verification ------------------------------------------------------ */

/* Called once per problem found: the run, the checkpoint (or NULL) and
 * what is wrong. */
typedef void (*cairn_verify_fn)(const char *run_id, const char *checkpoint,
                                const char *problem, void *userdata);

/* Checks every checkpoint of run_id (NULL: of every run) without changing
 * anything: each record decodes and its checksum holds, each checkpoint's
 * parent exists, and each checkpoint loads (every state version it reads,
 * its in-flight messages and outputs). *problems counts what was reported
 * through fn (may be NULL). Returns 0 when the store could be walked (even
 * with problems), CAIRN_ENOTFOUND for an unknown run. */
CAIRN_EXPORT int
cairn_store_verify(cairn_store_t *self, const char *run_id,
                   cairn_verify_fn fn, void *userdata, size_t *problems,
                   cairn_error_t *err) CAIRN_WARN_UNUSED;

/* ---- retention and gc ---------------------------------------------------- */

/* Deletes checkpoints beyond the newest keep_last of each run (0 = no
 * limit) and those older than older_than_ms, an age in milliseconds
 * (0 = no limit). The newest
 * checkpoint of a run is always kept. *deleted counts what went. */
CAIRN_EXPORT int
cairn_store_retain(cairn_store_t *self, size_t keep_last,
                   uint64_t older_than_ms, size_t *deleted,
                   cairn_error_t *err) CAIRN_WARN_UNUSED;

/* Removes state versions no remaining checkpoint (or fork) can read, and
 * stale pending writes. *removed counts the values removed. */
CAIRN_EXPORT int
cairn_store_gc(cairn_store_t *self, size_t *removed, cairn_error_t *err)
    CAIRN_WARN_UNUSED;

/* ---- export and import ---------------------------------------------------- */

/* Writes run_id to out as a self-contained, versioned export file
 * (format in docs/storage.md): every record of the run except pending
 * writes and, when the run is a fork, every record of the runs up its
 * lineage, so the file loads and resumes in an empty store. Each stored
 * record is checked while it is copied: a damaged one fails with
 * CAIRN_ECORRUPT naming its key, instead of being exported. Unknown run:
 * CAIRN_ENOTFOUND naming it; a write error on out: CAIRN_ESTORE. On
 * failure out holds an incomplete file without a trailer, which import
 * refuses. Works on a read-only store. out is borrowed (not closed). */
CAIRN_EXPORT int
cairn_store_export(cairn_store_t *self, const char *run_id, FILE *out,
                   cairn_error_t *err) CAIRN_WARN_UNUSED;

/* Reads an export file from in and adds its run to the store in one
 * atomic batch. Everything is checked before anything is written: a
 * file that is not an export (CAIRN_EINVAL), of a newer format
 * (CAIRN_EFORMAT), truncated or damaged (CAIRN_ECORRUPT naming the entry)
 * adds nothing. The run keeps its id unless as_id (NULL: keep) renames
 * it, with its checkpoints and their parents; a run id that already
 * exists in the store is CAIRN_EEXISTS. Ancestor runs carried for a fork
 * keep their ids and are added only when the store lacks them. The id
 * the run got goes to imported_id. A read-only store is CAIRN_ESTATE.
 * in is borrowed (read to its end, not closed). */
CAIRN_EXPORT int
cairn_store_import(cairn_store_t *self, FILE *in, const char *as_id,
                   char imported_id[CAIRN_CHECKPOINT_ID_MAX],
                   cairn_error_t *err) CAIRN_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
