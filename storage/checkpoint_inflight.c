/* checkpoint_inflight.c - the messages in flight at a loaded checkpoint,
 * in a canonical form, so runs can be compared (`cairn diff`).
 *
 * The stored in-flight record lists mail in the order its writer chose
 * (the engine: workflow order; a fork: the parent's order, then added
 * executors); the canonical form sorts mail by executor id and fan-in
 * buffers by slot and source, keeping each list's delivery order, and
 * packs that as an InflightRecord. The loaded record is borrowed, never
 * changed.
 */
#include <stdlib.h>
#include <string.h>

#include "storage/store_internal.h"

static int
s_compare_mail(const void *a, const void *b)
{
    const Cairn__ExecutorMail *x = *(Cairn__ExecutorMail *const *)a;
    const Cairn__ExecutorMail *y = *(Cairn__ExecutorMail *const *)b;
    return strcmp(x->executor, y->executor);
}

static int
s_compare_fan_in(const void *a, const void *b)
{
    const Cairn__FanInBuffer *x = *(Cairn__FanInBuffer *const *)a;
    const Cairn__FanInBuffer *y = *(Cairn__FanInBuffer *const *)b;
    if (x->slot != y->slot)
        return x->slot < y->slot ? -1 : 1;
    return x->source < y->source ? -1 : x->source > y->source;
}

int
cairn_checkpoint_inflight_bytes(const cairn_checkpoint_t *self, uint8_t **out,
                                size_t *len)
{
    *out = NULL;
    *len = 0;
    const Cairn__InflightRecord *stored = self->inflight;
    /* Anything else the record holds is compared as stored. */
    Cairn__InflightRecord canonical = *stored;
    Cairn__ExecutorMail **mail = NULL;
    Cairn__FanInBuffer **fan_in = NULL;
    size_t n_mail = 0, n_fan_in = 0;
    int rc = CAIRN_ENOMEM;
    mail = calloc(stored->n_mail + 1, sizeof *mail);
    fan_in = calloc(stored->n_fan_in + 1, sizeof *fan_in);
    if (!mail || !fan_in)
        goto done;
    /* An entry without messages and one that is absent mean the same. */
    for (size_t i = 0; i < stored->n_mail; i++)
        if (stored->mail[i]->n_messages > 0)
            mail[n_mail++] = stored->mail[i];
    for (size_t i = 0; i < stored->n_fan_in; i++)
        if (stored->fan_in[i]->n_messages > 0)
            fan_in[n_fan_in++] = stored->fan_in[i];
    qsort(mail, n_mail, sizeof *mail, s_compare_mail);
    qsort(fan_in, n_fan_in, sizeof *fan_in, s_compare_fan_in);
    canonical.mail = mail;
    canonical.n_mail = n_mail;
    canonical.fan_in = fan_in;
    canonical.n_fan_in = n_fan_in;
    size_t size = cairn__inflight_record__get_packed_size(&canonical);
    *out = malloc(size ? size : 1);
    if (!*out)
        goto done;
    *len = cairn__inflight_record__pack(&canonical, *out);
    rc = CAIRN_OK;
done:
    free(mail);
    free(fan_in);
    return rc;
}
