/* host.c - an executor host (see host.h).
 *
 * Invariants: an executor's state copy here equals the coordinator's
 * barrier state plus this host's own successful writes; if a superstep
 * fails elsewhere the coordinator restarts the executor (restart flag)
 * with the barrier state, so the copy can never drift. Shared state here
 * is exactly what the coordinator shipped: hosts never apply their own
 * shared writes; they come back, ordered, with the next Deliver.
 *
 * Threading: everything here runs on the actor's own thread.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "actors/context.h"
#include "actors/host.h"
#include "cairn/log.h"
#include "base/affinity.h"
#include "base/kv.h"
#include "base/log_internal.h"
#include "base/tsan.h"
#include "base/util.h"
#include "proto/codec.h"
#include "proto/pbutil.h"

/* How often an idle host looks whether its engine has left without it
 * (its $TERM may have been lost with the engine's end of the pipe). */
#define S_ABANDON_CHECK_MS 1000
/* A Done that cannot go out this long is given up: the DEALER has no
 * peer any more (its engine closed while a handler was stuck), and a
 * blocking send would keep the thread forever. */
#define S_SEND_TIMEOUT_MS 5000

typedef struct {
    const cairn_executor_type_t *vtable; /* borrowed from the registry */
    uint8_t *config;
    size_t config_len;
    void *instance;      /* from vtable->init, or NULL */
    cairn__kv_t *state;  /* copy of the executor's committed state */
} s_executor_t;

typedef struct {
    cairn__host_args_t args;
    cairn__host_args_t *origin; /* the args it was started with: busy and
                                   fate are read by the engine too */
    zsock_t *dealer;
    char *run_id;         /* run the executors below belong to */
    zhashx_t *executors;  /* executor id -> s_executor_t* */
    cairn__kv_t *shared;  /* shared state as last shipped */
} s_host_t;

/* Whether the engine gave up waiting for this thread. */
static bool
s_abandoned(const cairn__host_args_t *args)
{
    return atomic_load(&((cairn__host_args_t *)args)->fate)
           == CAIRN__HOST_ABANDONED;
}

static void
s_executor_destroy(void **item_p)
{
    s_executor_t *exec = (s_executor_t *)*item_p;
    if (!exec)
        return;
    if (exec->vtable && exec->vtable->fini)
        exec->vtable->fini(exec->instance);
    free(exec->config);
    cairn__kv_destroy(&exec->state);
    free(exec);
    *item_p = NULL;
}

/* Forgets every executor and the shared state (a new run begins). */
static int
s_reset_run(s_host_t *self, const char *run_id)
{
    zhashx_purge(self->executors);
    cairn__kv_clear(self->shared);
    return cairn__replace_string(&self->run_id, run_id);
}

/* Creates (or recreates) an executor from a restart item. On failure
 * returns NULL with *error set to a malloc'd reason. */
static s_executor_t *
s_executor_start(s_host_t *self, const Cairn__WorkItem *item, char **error)
{
    const cairn_executor_type_t *vtable =
        cairn_registry_executor(self->args.registry, item->executor_type);
    if (!vtable) {
        *error = cairn__strprintf("executor '%s': type '%s' is not offered "
                                  "by host '%s'",
                                  item->executor_id, item->executor_type,
                                  self->args.host_id);
        return NULL;
    }
    s_executor_t *exec = calloc(1, sizeof *exec);
    if (!exec)
        return NULL;
    exec->config = cairn__memdup(item->config.data, item->config.len);
    exec->config_len = item->config.len;
    exec->state = cairn__kv_new();
    if (!exec->state || (item->config.len > 0 && !exec->config)
        || cairn__kv_apply_entries(exec->state, item->state, item->n_state)
               != CAIRN_OK) {
        void *item_p = exec;
        s_executor_destroy(&item_p);
        return NULL;
    }
    if (vtable->init) {
        cairn_error_t err;
        cairn_error_clear(&err);
        if (vtable->init(&exec->instance, exec->config, exec->config_len,
                         &err)
            != CAIRN_OK) {
            *error = cairn__strprintf("executor '%s': bad config: %s",
                                      item->executor_id, err.message);
            void *item_p = exec;
            s_executor_destroy(&item_p);
            return NULL;
        }
    }
    exec->vtable = vtable;
    zhashx_update(self->executors, item->executor_id, exec);
    return exec;
}

/* Hands a response to the request it answers to the type's on_response. */
static int
s_run_response(s_executor_t *exec, cairn_ctx_t *ctx,
               const Cairn__Message *response)
{
    const Cairn__Request *asked = response->answers;
    if (!exec->vtable->on_response)
        return cairn_ctx_fail(ctx,
                              "executor '%s' got the response to request "
                              "'%s' but its type '%s' has no on_response",
                              ctx->executor_id, asked->id,
                              exec->vtable->name);
    cairn_request_t request = {
        .id = asked->id,
        .executor = asked->executor,
        .kind = asked->kind,
        .payload = asked->payload.data,
        .payload_len = asked->payload.len,
    };
    return exec->vtable->on_response(ctx, &request, response->payload.data,
                                     response->payload.len);
}

/* Calls the handler once per message (on_response for a response);
 * returns true when all succeeded. */
static bool
s_run_handler(s_executor_t *exec, cairn_ctx_t *ctx,
              const Cairn__WorkItem *item, uint32_t *handled)
{
    for (size_t i = 0; i < item->n_messages; i++) {
        const Cairn__Message *pb = item->messages[i];
        int rc = pb->answers ? s_run_response(exec, ctx, pb)
                             : exec->vtable->handle(
                                   ctx, (const cairn_msg_t *)(const void *)pb);
        (*handled)++;
        if (rc != 0 || ctx->out_of_memory) {
            if (!ctx->error)
                ctx->error = ctx->out_of_memory
                                 ? strdup("out of memory")
                                 : cairn__strprintf("handler returned %d", rc);
            return false;
        }
    }
    return true;
}

/* Sends the Done of one work item: effects when ok, else only error.
 * Returns whether the effects went out (and so may be applied here). */
static bool
s_send_done(s_host_t *self, const Cairn__Deliver *deliver,
            const Cairn__WorkItem *item, cairn_ctx_t *ctx, bool ok,
            uint32_t handled, const char *error)
{
    Cairn__Done done = CAIRN__DONE__INIT;
    done.run_id = deliver->run_id;
    done.superstep = deliver->superstep;
    done.executor_id = item->executor_id;
    done.attempt = item->attempt;
    done.ok = ok;
    done.handled = handled;
    cairn__entry_view_t state_view = {0}, shared_view = {0};
    if (ok) {
        done.sent = ctx->sent;
        done.n_sent = ctx->sent_count;
        done.outputs = ctx->outputs;
        done.n_outputs = ctx->output_count;
        done.checkpoint = ctx->checkpoint_requested;
        done.checkpoint_tags = ctx->checkpoint_tags;
        done.n_checkpoint_tags = ctx->checkpoint_tag_count;
        done.requests = ctx->requests;
        done.n_requests = ctx->request_count;
        if (cairn__entry_view_init(&state_view, ctx->state_writes) != CAIRN_OK
            || cairn__entry_view_init(&shared_view, ctx->shared_writes)
                   != CAIRN_OK) {
            ok = false;
            error = "out of memory";
        }
        done.state_writes = state_view.ptrs;
        done.n_state_writes = state_view.count;
        done.shared_writes = shared_view.ptrs;
        done.n_shared_writes = shared_view.count;
    }
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_DONE;
    env.done = &done;
    char too_big[256];
    size_t limit = CAIRN__FRAME_LIMIT((size_t)deliver->max_message_size);
    size_t entries = cairn__done_entries(&done);
    if (ok && entries > CAIRN__DONE_MAX_ENTRIES) {
        snprintf(too_big, sizeof too_big,
                 "executor '%s' made %zu messages, outputs, state writes, "
                 "requests and checkpoint tags in one superstep, more than "
                 "the %d a superstep may hold",
                 item->executor_id, entries, CAIRN__DONE_MAX_ENTRIES);
        ok = false;
        error = too_big;
    } else if (ok && cairn__envelope__get_packed_size(&env) > limit) {
        snprintf(too_big, sizeof too_big,
                 "executor '%s' produced more than %zu bytes of results in "
                 "one superstep (4 x the maximum message size + 1 MiB)",
                 item->executor_id, limit);
        ok = false;
        error = too_big;
    }
    if (!ok) {
        done.ok = false;
        done.n_sent = done.n_outputs = done.n_checkpoint_tags = 0;
        done.n_requests = 0;
        done.n_state_writes = done.n_shared_writes = 0;
    }
    /* An error text goes out only with a failure. */
    done.error = (char *)(ok || !error ? "" : error);
    /* No one waits for the Done of a host its engine left behind. */
    if (s_abandoned(self->origin)) {
        ok = false;
    } else if (cairn__envelope_send(zsock_resolve(self->dealer), NULL, &env)
               != CAIRN_OK) {
        cairn_log(CAIRN_LOG_ERROR, "host", "host '%s': could not send Done",
                  self->args.host_id);
        ok = false;
    }
    cairn__entry_view_fini(&state_view);
    cairn__entry_view_fini(&shared_view);
    return ok;
}

/* Runs one executor's work item and answers with a Done. */
static void
s_run_item(s_host_t *self, const Cairn__Deliver *deliver,
           const Cairn__WorkItem *item)
{
    char *start_error = NULL;
    s_executor_t *exec = zhashx_lookup(self->executors, item->executor_id);
    if (item->restart)
        exec = s_executor_start(self, item, &start_error);
    else if (!exec)
        start_error = cairn__strprintf("executor '%s' is not known to host "
                                       "'%s'",
                                       item->executor_id, self->args.host_id);
    cairn_ctx_t ctx = {0};
    ctx.run_id = deliver->run_id;
    ctx.executor_id = item->executor_id;
    ctx.superstep = deliver->superstep;
    ctx.attempt = item->attempt;
    ctx.max_message_size = (size_t)deliver->max_message_size;
    bool ok = exec && cairn__ctx_init(&ctx) == CAIRN_OK;
    uint32_t handled = 0;
    if (ok) {
        ctx.config = exec->config;
        ctx.config_len = exec->config_len;
        ctx.instance = exec->instance;
        ctx.state = exec->state;
        ctx.shared = self->shared;
        ok = s_run_handler(exec, &ctx, item, &handled);
    }
    const char *error = start_error ? start_error
                        : ctx.error ? ctx.error
                        : ok        ? NULL
                                    : "out of memory";
    ok = s_send_done(self, deliver, item, &ctx, ok, handled, error);
    /* Our own state writes are final unless the coordinator says
     * otherwise (by restarting the executor). */
    if (ok && cairn__kv_size(ctx.state_writes) > 0) {
        cairn__entry_view_t view;
        if (cairn__entry_view_init(&view, ctx.state_writes) != CAIRN_OK
            || cairn__kv_apply_entries(exec->state, view.ptrs, view.count)
                   != CAIRN_OK)
            zhashx_delete(self->executors, item->executor_id);
        cairn__entry_view_fini(&view);
    }
    cairn__ctx_fini(&ctx);
    free(start_error);
}

static void
s_handle_deliver(s_host_t *self, const Cairn__Deliver *deliver)
{
    if ((!self->run_id || strcmp(self->run_id, deliver->run_id) != 0)
        && s_reset_run(self, deliver->run_id) != CAIRN_OK)
        return;
    if (deliver->shared_reset)
        cairn__kv_clear(self->shared);
    if (cairn__kv_apply_entries(self->shared, deliver->shared_updates,
                                deliver->n_shared_updates)
        != CAIRN_OK)
        cairn_log(CAIRN_LOG_ERROR, "host", "host '%s': out of memory",
                  self->args.host_id);
    /* A host its engine gave up on runs nothing more. */
    for (size_t i = 0; i < deliver->n_items && !s_abandoned(self->origin);
         i++)
        s_run_item(self, deliver, deliver->items[i]);
}

/* Handles the frame waiting on the DEALER; false when told to stop. */
static bool
s_handle_frame(s_host_t *self)
{
    Cairn__Envelope *env = NULL;
    const char *why = NULL;
    int rc = cairn__envelope_recv(zsock_resolve(self->dealer), NULL,
                                  CAIRN__DELIVER_LIMIT, &env, &why);
    if (rc != CAIRN_OK) {
        cairn_log(CAIRN_LOG_WARN, "host", "host '%s': rejected frame: %s",
                  self->args.host_id, why ? why : "receive failed");
        return true;
    }
    bool keep_going = true;
    switch (env->body_case) {
    case CAIRN__ENVELOPE__BODY_DELIVER:
        /* Busy: an engine that stops waits for it only so long. */
        atomic_store(&self->origin->busy, true);
        s_handle_deliver(self, env->deliver);
        atomic_store(&self->origin->busy, false);
        break;
    case CAIRN__ENVELOPE__BODY_CONTROL:
        if (env->control->kind == CAIRN__CONTROL__KIND__END_RUN && self->run_id
            && strcmp(self->run_id, env->control->run_id) == 0)
            s_reset_run(self, "");
        break;
    case CAIRN__ENVELOPE__BODY_SHUTDOWN:
        keep_going = false;
        break;
    default: /* Welcome, Heartbeat: nothing to do yet */
        break;
    }
    cairn__envelope__free_unpacked(env, NULL);
    return keep_going;
}

static int s_init_rc;

static void
s_process_init_once(void)
{
    zsys_handler_set(NULL);
    zsys_init();
    /* czmq would log to stdout, which carries a command's outputs */
    cairn__log_capture_czmq();
    s_init_rc = sodium_init() < 0 ? CAIRN_ENOMEM : CAIRN_OK;
}

int
cairn__process_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, s_process_init_once);
    return s_init_rc;
}

int
cairn__hello_send(void *socket, const cairn__host_args_t *args)
{
    Cairn__Hello hello = CAIRN__HELLO__INIT;
    hello.host_id = (char *)args->host_id;
    size_t n = cairn_registry_executor_count(args->registry);
    char **types = calloc(n ? n : 1, sizeof *types);
    if (!types)
        return CAIRN_ENOMEM;
    for (size_t i = 0; i < n; i++)
        types[i] = (char *)cairn_registry_executor_name(args->registry, i);
    hello.executor_types = types;
    hello.n_executor_types = n;
    hello.labels = (char **)args->labels;
    hello.n_labels = args->label_count;
    hello.nonce = args->nonce;
    Cairn__Envelope env = CAIRN__ENVELOPE__INIT;
    env.body_case = CAIRN__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    int rc = cairn__envelope_send(socket, NULL, &env);
    free(types);
    return rc;
}

static void
s_host_destroy(s_host_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_host_t *self = *self_p;
    zsock_destroy(&self->dealer);
    zhashx_destroy(&self->executors);
    cairn__kv_destroy(&self->shared);
    free(self->run_id);
    free(self);
    *self_p = NULL;
}

/* Connects to args->endpoint and says Hello. */
static int
s_host_open(s_host_t **out, cairn__host_args_t *args)
{
    *out = NULL;
    s_host_t *self = calloc(1, sizeof *self);
    if (!self)
        return CAIRN_ENOMEM;
    self->args = *args;
    self->origin = args;
    self->executors = zhashx_new();
    self->shared = cairn__kv_new();
    self->dealer = zsock_new(ZMQ_DEALER);
    int rc = self->executors && self->shared && self->dealer ? CAIRN_OK
                                                             : CAIRN_ENOMEM;
    if (rc == CAIRN_OK) {
        zhashx_set_destructor(self->executors, s_executor_destroy);
        zsock_set_linger(self->dealer, 0);
        zsock_set_sndtimeo(self->dealer, S_SEND_TIMEOUT_MS);
        zsock_set_identity(self->dealer, self->args.host_id);
        if (zsock_connect(self->dealer, "%s", self->args.endpoint) != 0)
            rc = CAIRN_ETRANSPORT;
    }
    if (rc == CAIRN_OK)
        rc = cairn__hello_send(zsock_resolve(self->dealer), &self->args);
    if (rc != CAIRN_OK) {
        s_host_destroy(&self);
        return rc;
    }
    *out = self;
    return CAIRN_OK;
}

void
cairn__host_actor(zsock_t *pipe, void *args)
{
    cairn__host_args_t *host_args = args;
    if (host_args->pin && cairn__affinity_pin_self(host_args->cpu, NULL) != 0)
        cairn_log(CAIRN_LOG_WARN, "host", "%s: could not pin to CPU %d",
                  host_args->host_id, host_args->cpu);
    s_host_t *self = NULL;
    int rc = s_host_open(&self, host_args);
    zsock_signal(pipe, rc == CAIRN_OK ? 0 : 1);
    zpoller_t *poller =
        rc == CAIRN_OK ? zpoller_new(pipe, self->dealer, NULL) : NULL;
    bool running = poller != NULL;
    while (running) {
        void *which = zpoller_wait(poller, S_ABANDON_CHECK_MS);
        if (which == self->dealer) {
            running = s_handle_frame(self);
        } else if (which == pipe) {
            char *command = zstr_recv(pipe);
            running = command && strcmp(command, "$TERM") != 0;
            zstr_free(&command);
        } else if (zpoller_terminated(poller)) {
            running = false;
        }
        if (s_abandoned(host_args))
            running = false; /* back from a stuck handler, too late */
    }
    zpoller_destroy(&poller);
    s_host_destroy(&self);
    /* A failed start must still wait for $TERM, as zactor expects. */
    if (rc != CAIRN_OK) {
        char *command = zstr_recv(pipe);
        zstr_free(&command);
    }
    /* Everything this thread read (registry, args) happens-before the
     * engine frees it after zactor_destroy. */
    CAIRN__HANDOFF_RELEASE(args);
    /* An engine that left without us handed args over: ours to free. */
    if (atomic_exchange(&host_args->fate, CAIRN__HOST_FINISHED)
        == CAIRN__HOST_ABANDONED)
        free(host_args);
}
