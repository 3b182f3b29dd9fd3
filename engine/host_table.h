/* host_table.h - the engine's host table (host_table.c): the ROUTER, the
 * in-process host threads and the workers that joined; the engine as the
 * coordinator sees it.
 *
 * The engine's files call one way: engine.c (the public API) opens and
 * closes the table and hands runs to the coordinator (coordinator.h); the
 * coordinator reads the table and calls the functions below; host_table.c
 * calls neither of them. A host index stays valid for the engine's life:
 * worker slots are only added (a worker that comes back gets a new one),
 * and an in-process host that is replaced keeps its slot.
 */
#ifndef CAIRN_HOST_TABLE_H_INCLUDED
#define CAIRN_HOST_TABLE_H_INCLUDED

#include <czmq.h>

#include "actors/host.h"
#include "actors/curve.h"
#include "cairn/engine.h"
#include "proto/codec.h"

/* Hosts an engine can hold: in-process threads plus workers that joined.
 * Per-run bookkeeping is sized by it. */
#define CAIRN__MAX_HOSTS 256

/* One executor host: an in-process thread, or a worker process. */
typedef struct {
    cairn__peer_t peer;     /* routing id */
    char id[65];            /* worker id: [A-Za-z0-9_-]{1,64} */
    bool remote;            /* a worker process */
    bool alive;             /* false once lost (a worker never comes back
                               under the same slot) */
    uint64_t silent_us;     /* how long it has not been heard from, in
                               time the coordinator was watching
                               (worker_loss.c) */
    bool unreachable;       /* a send found its connection gone (the
                               process died): lost at the next check */
    bool suspended;         /* remote: lost for its silence, still sent
                               heartbeats: taken back when it speaks
                               again, known dead when a send is refused */
    bool reported;          /* remote: a run has reported it joined
                               (a worker_joined event) */
    uint64_t suspended_us;  /* ... since then (monotonic): executors that
                               could fall back in-process wait for it up
                               to the worker wait (placement.c) */
    char **types;           /* remote: the executor types it offers */
    size_t type_count;
    char **labels;          /* remote: the labels it announced */
    size_t label_count;
    uint64_t nonce;         /* remote: its process's Hello nonce (0: none) */
    bool replaced;          /* remote: a newer process took its worker id;
                               it is lost and told to stop if it speaks */
    bool refused;           /* remote: it broke the protocol (a Done no
                               honest host sends); lost, and told to stop
                               if it speaks again */
} cairn__host_info_t;

struct cairn_engine_t {
    const cairn_registry_t *registry; /* borrowed */
    zsock_t *router;                  /* coordinator ROUTER */
    char endpoint[64];                /* inproc endpoint of the ROUTER */
    char listen[256];                 /* endpoint workers connect to, or "" */
    char local_listen[256];           /* ipc endpoint for local workers,
                                         never CURVE, or "" */
    uint64_t heartbeat_us;
    size_t max_message_size;          /* the largest a run may use when
                                         workers can join (ZMQ_MAXMSGSIZE
                                         of the ROUTER is its frame
                                         limit) */
    size_t min_workers;
    uint64_t worker_wait_us;
    cairn_worker_loss_t on_worker_loss;
    zactor_t **actors;                /* in-process host threads */
    cairn__host_args_t **actor_args;  /* per slot: what actors[i] was
                                         started with (owned) */
    zactor_t **retired;               /* replaced hosts, maybe still stuck
                                         in a handler (told to stop);
                                         waited for, bounded, at close */
    cairn__host_args_t **retired_args;
    size_t retired_count;
    unsigned replacements;            /* names replacement hosts */
    cairn__host_info_t *hosts;        /* CAIRN__MAX_HOSTS slots */
    size_t local_count;               /* hosts[0 .. local_count) are local */
    size_t host_count;                /* slots in use */
    int cpu;                          /* CAIRN_CPU_SHARED: the CPU of the
                                         coordinator and hosts, else -1 */
    uint64_t rejected_frames;         /* malformed or unexpected frames */
    cairn__curve_server_t *curve;     /* CURVE on the listen endpoint */
    _Atomic uint64_t refused_peers;   /* refused handshakes (curve.c) */
};

/* True when worker processes can join: a listen or local endpoint. */
static inline bool
cairn__engine_listens(const cairn_engine_t *engine)
{
    return engine->listen[0] || engine->local_listen[0];
}

/* Creates the ROUTER, binds it on a fresh inproc endpoint and on the
 * listen endpoints the settings name (opts: CURVE keys, local_listen),
 * starts self->local_count host threads and waits, bounded, for their
 * Hellos. self is zeroed but for the settings cairn_engine_open fills
 * (registry, counts, cpu, listen, limits). 0 or < 0 with err set;
 * cairn__engine_hosts_close then frees what was made. */
int
cairn__engine_hosts_open(cairn_engine_t *self,
                         const cairn_engine_options_t *opts,
                         cairn_error_t *err);

/* Stops the host threads (waiting for those inside a handler until
 * wait_ms, CAIRN_WAIT_FOREVER for ever), frees the table and closes the
 * ROUTER; self itself stays the caller's. Returns how many threads were
 * left running (cairn_engine_close). Accepts a partly opened table. */
size_t
cairn__engine_hosts_close(cairn_engine_t *self, uint32_t wait_ms);

/* Index of the host with this routing id, or -1. */
long
cairn__engine_find_host(const cairn_engine_t *self,
                        const cairn__peer_t *peer);

/* Registers (or re-registers) the host that sent hello and welcomes it.
 * Returns its index, or -1 when there is no room or the sender is a
 * replaced process (told to stop); *joined tells whether it is a worker
 * that was not (or no longer) counted as alive. A worker process new
 * under a worker id (another routing id or nonce) replaces every earlier
 * process under that id: a live one is marked unreachable, so the
 * coordinator loses it at its next liveness check, and is told to stop. */
long
cairn__engine_on_hello(cairn_engine_t *self, const cairn__peer_t *peer,
                       const Cairn__Hello *hello, bool *joined);

/* Whether host h can run executors of type. */
bool
cairn__engine_host_offers(const cairn_engine_t *self, size_t h,
                          const char *type);

/* Whether worker h announced type, alive or not. */
bool
cairn__engine_worker_announced(const cairn_engine_t *self, size_t h,
                               const char *type);

/* Tells a peer that spoke another protocol version to go away. */
void
cairn__engine_refuse_version(cairn_engine_t *self, const cairn__peer_t *peer);

/* Replaces in-process host h, stuck in a handler, by a fresh thread in
 * the same slot under a new routing id (so whatever the old one still
 * sends is refused). The old thread is told to stop (it does when its
 * handler returns); cairn_engine_close waits for it, bounded, and leaves
 * it behind when it is still stuck. 0, CAIRN_ENOMEM or CAIRN_ETRANSPORT. */
int
cairn__engine_replace_host(cairn_engine_t *self, size_t h);

/* Tells a peer to stop (Shutdown with reason). */
void
cairn__engine_shutdown_peer(cairn_engine_t *self, const cairn__peer_t *peer,
                            const char *reason);

/* Takes back worker h, lost for its silence, which spoke again: a fresh
 * slot (so nothing from its old life is mistaken for current work) for
 * the same process, types and labels; the old slot is retired. Returns
 * the new index, or -1 when the table is full. */
long
cairn__engine_take_back(cairn_engine_t *self, size_t h);

/* Sends a Heartbeat to every live or suspended worker; marks those whose
 * connection is gone unreachable. */
void
cairn__engine_heartbeat(cairn_engine_t *self);

#endif
