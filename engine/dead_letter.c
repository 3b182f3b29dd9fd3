/* dead_letter.c - messages set aside because they failed their executor.
 *
 * An executor whose on_failure is dead-letter does not fail its superstep
 * when it runs out of attempts: the message it failed on (the last one it
 * handled; all of them when it could not even start) is copied into the
 * run's dead-letter list and leaves its mailbox, and the coordinator runs
 * the executor again on what is left. The list travels in every
 * checkpoint's in-flight record, so `cairn show` lists it and `cairn fork
 * --send` can put a message back.
 *
 * Threading: the coordinator's thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/run_internal.h"

static void
s_free(Cairn__DeadLetter *letter)
{
    if (letter)
        protobuf_c_message_free_unpacked(&letter->base, NULL);
}

/* A dead letter owning copies of executor, msg and why. */
static Cairn__DeadLetter *
s_new(const char *executor, const Cairn__Message *msg, const char *why,
      uint64_t superstep)
{
    Cairn__DeadLetter *letter = malloc(sizeof *letter);
    if (!letter)
        return NULL;
    cairn__dead_letter__init(letter);
    letter->executor = strdup(executor);
    letter->error = strdup(why ? why : "");
    letter->message = msg ? cairn__pb_message_clone(msg) : NULL;
    letter->superstep = superstep;
    if (!letter->executor || !letter->error || (msg && !letter->message)) {
        s_free(letter);
        return NULL;
    }
    return letter;
}

int
cairn__dead_letter_take(cairn__run_t *run, size_t x, size_t m,
                        const char *why)
{
    cairn__ptrs_t *inbox = &run->inbox[x];
    Cairn__DeadLetter *letter = s_new(run->wf->executors[x].id,
                                      inbox->items[m], why, run->superstep);
    if (!letter || cairn__ptrs_push(&run->dead_letters, letter) != CAIRN_OK) {
        s_free(letter);
        return CAIRN_ENOMEM;
    }
    /* The mailbox only borrows the message: no free here. */
    memmove(&inbox->items[m], &inbox->items[m + 1],
            (inbox->count - m - 1) * sizeof *inbox->items);
    inbox->count--;
    return CAIRN_OK;
}

int
cairn__dead_letter_restore(cairn__run_t *run,
                           const Cairn__InflightRecord *inflight)
{
    for (size_t i = 0; i < inflight->n_dead_letters; i++) {
        const Cairn__DeadLetter *stored = inflight->dead_letters[i];
        Cairn__DeadLetter *letter = s_new(stored->executor, stored->message,
                                          stored->error, stored->superstep);
        if (!letter
            || cairn__ptrs_push(&run->dead_letters, letter) != CAIRN_OK) {
            s_free(letter);
            return CAIRN_ENOMEM;
        }
    }
    return CAIRN_OK;
}

void
cairn__dead_letter_fini(cairn__run_t *run)
{
    for (size_t i = 0; i < run->dead_letters.count; i++)
        s_free(run->dead_letters.items[i]);
    free(run->dead_letters.items);
    memset(&run->dead_letters, 0, sizeof run->dead_letters);
}
