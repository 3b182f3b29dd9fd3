/* store_export.c - exporting a run to a file and importing it back.
 *
 * An export file is a header, a sequence of entries and a trailer
 * (docs/storage.md, "Export and import"):
 *
 *   header   "CAIRNEXP", format byte, run id length (u32), run id,
 *            CRC-32 of everything before it
 *   entry    family byte, key length (u32), value length (u32), key,
 *            value, CRC-32 of everything before it in the entry
 *   trailer  an entry of family 0xff, empty key, value = entry count (u64)
 *
 * Integers are little endian. Values are the stored records as they are
 * (already framed and checksummed by record.c); the entry CRC covers the
 * key and the lengths too, so any flipped byte is caught before a value
 * is decoded.
 *
 * Invariants:
 * - Export copies every record of the run except pending writes (they
 *   are only a cache of work in progress), and for a fork every record of
 *   each run up its lineage, so the file is self-contained. Each record
 *   is decoded while it is copied: a damaged store is reported, never
 *   exported. A failed export leaves a file without a trailer.
 * - Import reads the whole file into memory and checks all of it (CRCs,
 *   trailer, every record decodes, every key belongs to a run of the
 *   exported lineage) before it builds one batch; so a damaged file, a
 *   clash of ids or an out-of-memory writes nothing, and a crash during
 *   the commit leaves all of it or none.
 * - Renaming (as_id) touches only the exported run: its keys' run prefix,
 *   RunRecord.run_id/latest_checkpoint and CheckpointRecord.run_id/parent
 *   when they name the run. Ancestors keep their ids; one the store
 *   already holds (same creation time and signature) is not re-imported.
 *
 * Threading: like the store, one thread at a time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cairn/engine.h"
#include "base/ids.h"
#include "base/util.h"
#include "storage/record.h"
#include "storage/store_internal.h"

#define S_MAGIC "CAIRNEXP"
#define S_MAGIC_LEN 8
#define S_FORMAT 1        /* export file format this cairn writes */
#define S_HEADER_FIXED 13 /* magic, format byte, run id length */
#define S_ENTRY_HEAD 9    /* family byte, key length, value length */
#define S_CRC_LEN 4
#define S_TRAILER 0xffu    /* family byte of the trailer */
#define S_RUN_ID_MAX 64    /* [A-Za-z0-9_-]{1,64} */
#define S_MAX_LINEAGE 1024 /* as store_load.c: deeper is corrupt */
#define S_PREFIX "export file: "

/* The column families an export carries, by their byte in the file. The
 * bytes are part of the file format: never renumber them. */
typedef struct {
    uint8_t byte;                           /* in the file */
    cairn__cf_t cf;                         /* in the store */
    const ProtobufCMessageDescriptor *desc; /* the record it holds */
    const char *name;                       /* in messages */
} s_family_t;

enum {
    S_RUNS = 0,
    S_CHECKPOINTS,
    S_INFLIGHT,
    S_STATE,
    S_OUTPUTS,
    S_EVENTS,
    S_FAMILIES
};

static const s_family_t s_families[S_FAMILIES] = {
    {1, CAIRN__CF_RUNS, &cairn__run_record__descriptor, "run record"},
    {2, CAIRN__CF_CHECKPOINTS, &cairn__checkpoint_record__descriptor,
     "checkpoint"},
    {3, CAIRN__CF_INFLIGHT, &cairn__inflight_record__descriptor,
     "in-flight record"},
    {4, CAIRN__CF_STATE, &cairn__value_record__descriptor, "state value"},
    {5, CAIRN__CF_OUTPUTS, &cairn__output_record__descriptor, "outputs"},
    {6, CAIRN__CF_EVENTS, &cairn__event_block__descriptor, "event block"},
};

/* ---- encoding helpers ---------------------------------------------------- */

static void
s_put_u32(uint8_t *p, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(value >> (8 * i));
}

static uint32_t
s_get_u32(const uint8_t *p)
{
    uint32_t value = 0;
    for (int i = 0; i < 4; i++)
        value |= (uint32_t)p[i] << (8 * i);
    return value;
}

static void
s_put_u64(uint8_t *p, uint64_t value)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(value >> (8 * i));
}

static uint64_t
s_get_u64(const uint8_t *p)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value |= (uint64_t)p[i] << (8 * i);
    return value;
}

/* Continues a zlib CRC-32 over len bytes (zlib would restart on a NULL
 * buffer, which an empty key may be). */
static uint32_t
s_crc(uint32_t crc, const uint8_t *data, size_t len)
{
    return len ? (uint32_t)crc32_z(crc, data, len) : crc;
}

/* CRC of an entry: its head, key and value. */
static uint32_t
s_entry_crc(const uint8_t head[S_ENTRY_HEAD], const uint8_t *key,
            size_t key_len, const uint8_t *value, size_t value_len)
{
    uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0);
    crc = s_crc(crc, head, S_ENTRY_HEAD);
    crc = s_crc(crc, key, key_len);
    return s_crc(crc, value, value_len);
}

/* Length of the field at p (up to a NUL or end), capped for messages. */
static int
s_field(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *nul = p < end ? memchr(p, '\0', (size_t)(end - p)) : NULL;
    size_t len = nul ? (size_t)(nul - p) : (size_t)(end - p);
    return (int)(len > S_RUN_ID_MAX ? S_RUN_ID_MAX : len);
}

/* Names the record under key for messages: "checkpoint RUN@3", "state
 * value 'count' of executor a in run 'RUN'", ... */
static void
s_describe(const s_family_t *family, const uint8_t *key, size_t len, char *out,
           size_t size)
{
    const uint8_t *end = key + len;
    const uint8_t *nul = memchr(key, '\0', len);
    int run_len = s_field(key, end);
    const char *run = (const char *)key;
    if (family->cf == CAIRN__CF_RUNS) {
        snprintf(out, size, "run record '%.*s'", run_len, run);
    } else if (family->cf == CAIRN__CF_STATE && nul) {
        /* RUN \0 SCOPE \0 NAME \0 ~SUPERSTEP */
        const uint8_t *scope = nul + 1;
        int scope_len = s_field(scope, end);
        const uint8_t *name = scope + scope_len + 1;
        int name_len = name < end ? s_field(name, end) : 0;
        snprintf(out, size, "state value '%.*s' of %s%.*s in run '%.*s'",
                 name_len, (const char *)name,
                 scope_len ? "executor " : "shared state", scope_len,
                 (const char *)scope, run_len, run);
    } else if (family->cf == CAIRN__CF_EVENTS && nul
               && len == (size_t)(nul - key) + 1 + 8) {
        snprintf(out, size, "event block %llu of run '%.*s'",
                 (unsigned long long)cairn__key_read_u64(nul + 1), run_len,
                 run);
    } else if (nul && len == (size_t)(nul - key) + 1 + 8) {
        snprintf(out, size, "%s %.*s@%llu", family->name, run_len, run,
                 (unsigned long long)cairn__key_read_u64(nul + 1));
    } else {
        snprintf(out, size, "%s of run '%.*s'", family->name, run_len, run);
    }
}

/* ---- export -------------------------------------------------------------- */

typedef struct {
    FILE *out;      /* borrowed */
    uint64_t count; /* entries written, trailer excluded */
} s_writer_t;

static int
s_write(s_writer_t *w, const void *data, size_t len, cairn_error_t *err)
{
    if (len && fwrite(data, 1, len, w->out) != len)
        return cairn_error_set(err, CAIRN_ESTORE, "cannot write the export: %s",
                               strerror(errno ? errno : EIO));
    return CAIRN_OK;
}

/* Writes one entry (or the trailer, family S_TRAILER). */
static int
s_write_entry(s_writer_t *w, uint8_t family, const uint8_t *key, size_t key_len,
              const uint8_t *value, size_t value_len, cairn_error_t *err)
{
    if (key_len > UINT32_MAX || value_len > UINT32_MAX)
        return cairn_error_set(err, CAIRN_ETOOLARGE,
                               "a record of %zu bytes is too large to export",
                               value_len);
    uint8_t head[S_ENTRY_HEAD], crc[S_CRC_LEN];
    head[0] = family;
    s_put_u32(head + 1, (uint32_t)key_len);
    s_put_u32(head + 5, (uint32_t)value_len);
    s_put_u32(crc, s_entry_crc(head, key, key_len, value, value_len));
    int rc = s_write(w, head, sizeof head, err);
    if (rc == CAIRN_OK)
        rc = s_write(w, key, key_len, err);
    if (rc == CAIRN_OK)
        rc = s_write(w, value, value_len, err);
    if (rc == CAIRN_OK)
        rc = s_write(w, crc, sizeof crc, err);
    if (rc == CAIRN_OK && family != S_TRAILER)
        w->count++;
    return rc;
}

/* Checks a stored record (frame, checksum, decoding) and writes it. */
static int
s_export_record(s_writer_t *w, const s_family_t *family, const uint8_t *key,
                size_t key_len, const uint8_t *value, size_t value_len,
                cairn_error_t *err)
{
    char what[256];
    s_describe(family, key, key_len, what, sizeof what);
    ProtobufCMessage *msg = NULL;
    int rc =
        cairn__record_unpack(family->desc, value, value_len, what, &msg, err);
    if (rc != CAIRN_OK)
        return rc;
    protobuf_c_message_free_unpacked(msg, NULL);
    return s_write_entry(w, family->byte, key, key_len, value, value_len, err);
}

/* Writes every record of run_id except pending writes. */
static int
s_export_run(cairn_store_t *self, s_writer_t *w, const char *run_id,
             cairn_error_t *err)
{
    const cairn__backend_ops_t *ops = self->backend->ops;
    cairn__key_t prefix = {0};
    uint8_t *value = NULL;
    size_t len = 0;
    cairn__key_add_text(&prefix, run_id, false);
    int rc = prefix.out_of_memory
                 ? cairn_error_set(err, CAIRN_ENOMEM, "out of memory")
                 : ops->get(self->backend, CAIRN__CF_RUNS, prefix.data,
                            prefix.len, &value, &len, err);
    if (rc == CAIRN_ENOTFOUND)
        rc = cairn_error_set(err, rc, "unknown run '%s'", run_id);
    if (rc == CAIRN_OK)
        rc = s_export_record(w, &s_families[S_RUNS], prefix.data, prefix.len,
                             value, len, err);
    free(value);
    /* The other families are keyed RUN \0 ... */
    cairn__key_add_bytes(&prefix, "", 1);
    if (rc == CAIRN_OK && prefix.out_of_memory)
        rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    for (size_t f = S_CHECKPOINTS; rc == CAIRN_OK && f < S_FAMILIES; f++) {
        cairn__iter_t *it = ops->iter_new(self->backend, s_families[f].cf);
        if (!it) {
            rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
            break;
        }
        for (ops->iter_seek(it, prefix.data, prefix.len);
             rc == CAIRN_OK && ops->iter_valid(it); ops->iter_next(it)) {
            size_t key_len;
            const uint8_t *key = ops->iter_key(it, &key_len);
            if (!cairn__key_has_prefix(key, key_len, &prefix))
                break;
            const uint8_t *data = ops->iter_value(it, &len);
            rc = s_export_record(w, &s_families[f], key, key_len, data, len,
                                 err);
        }
        rc = cairn__store_iter_end(self, it, rc, err);
    }
    cairn__key_free(&prefix);
    return rc;
}

typedef struct {
    char id[S_RUN_ID_MAX + 1];
} s_run_id_t;

/* The run ids the export carries: run_id, then up its lineage. */
static int
s_export_lineage(cairn_store_t *self, const char *run_id, s_run_id_t **out,
                 size_t *count, cairn_error_t *err)
{
    s_run_id_t *ids = NULL;
    size_t n = 0;
    char current[S_RUN_ID_MAX + 1];
    snprintf(current, sizeof current, "%s", run_id);
    int rc = CAIRN_OK;
    bool more = true;
    while (rc == CAIRN_OK && more) {
        bool seen = n == S_MAX_LINEAGE;
        for (size_t i = 0; i < n && !seen; i++)
            seen = strcmp(ids[i].id, current) == 0;
        if (seen) {
            rc = cairn_error_set(err, CAIRN_ECORRUPT,
                                 "lineage of run '%s' is too long or cyclic",
                                 run_id);
            break;
        }
        Cairn__RunRecord *run = NULL;
        rc = cairn__store_get_run_record(self, current, &run, err);
        if (rc == CAIRN_ENOTFOUND && n > 0)
            rc = cairn_error_set(err, CAIRN_ECORRUPT,
                                 "run '%s' was forked from run '%s', which "
                                 "is not in the store",
                                 ids[n - 1].id, current);
        if (rc != CAIRN_OK)
            break;
        if (!CAIRN__GROW(ids, n)) {
            rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
        } else {
            snprintf(ids[n++].id, sizeof ids[0].id, "%s", current);
            uint64_t at = 0;
            more = run->parent && *run->parent;
            if (more
                && !cairn__checkpoint_id_parse(run->parent, current,
                                               sizeof current, &at))
                rc = cairn_error_set(err, CAIRN_ECORRUPT,
                                     "run record '%s' is corrupt: bad "
                                     "parent '%s'",
                                     ids[n - 1].id, run->parent);
        }
        cairn__run_record__free_unpacked(run, NULL);
    }
    if (rc != CAIRN_OK) {
        free(ids);
        return rc;
    }
    *out = ids;
    *count = n;
    return CAIRN_OK;
}

int
cairn_store_export(cairn_store_t *self, const char *run_id, FILE *out,
                   cairn_error_t *err)
{
    cairn_error_clear(err);
    if (!self || !run_id || !out)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "export needs a store, a run id and a file");
    if (!cairn__valid_id(run_id))
        return cairn_error_set(err, CAIRN_ENOTFOUND, "unknown run '%s'",
                               run_id);
    s_run_id_t *ids = NULL;
    size_t count = 0;
    int rc = s_export_lineage(self, run_id, &ids, &count, err);
    if (rc != CAIRN_OK)
        return rc;

    s_writer_t w = {out, 0};
    size_t id_len = strlen(run_id);
    uint8_t header[S_HEADER_FIXED + S_RUN_ID_MAX + S_CRC_LEN];
    memcpy(header, S_MAGIC, S_MAGIC_LEN);
    header[S_MAGIC_LEN] = S_FORMAT;
    s_put_u32(header + S_MAGIC_LEN + 1, (uint32_t)id_len);
    memcpy(header + S_HEADER_FIXED, run_id, id_len);
    uint32_t crc =
        s_crc((uint32_t)crc32(0L, Z_NULL, 0), header, S_HEADER_FIXED + id_len);
    s_put_u32(header + S_HEADER_FIXED + id_len, crc);
    errno = 0;
    rc = s_write(&w, header, S_HEADER_FIXED + id_len + S_CRC_LEN, err);
    for (size_t i = 0; rc == CAIRN_OK && i < count; i++)
        rc = s_export_run(self, &w, ids[i].id, err);
    if (rc == CAIRN_OK) {
        uint8_t total[8];
        s_put_u64(total, w.count);
        rc = s_write_entry(&w, S_TRAILER, NULL, 0, total, sizeof total, err);
    }
    if (rc == CAIRN_OK && fflush(out) != 0)
        rc = cairn_error_set(err, CAIRN_ESTORE, "cannot write the export: %s",
                             strerror(errno));
    free(ids);
    return rc;
}

/* ---- import: reading and checking the file ------------------------------- */

typedef struct {
    const s_family_t *family;
    const uint8_t *key; /* into the file buffer */
    size_t key_len;
    const uint8_t *value; /* into the file buffer */
    size_t value_len;
    size_t run;            /* index of its run in s_import_t.runs */
    ProtobufCMessage *msg; /* decoded run or checkpoint record, else NULL */
} s_entry_t;

typedef struct {
    char id[S_RUN_ID_MAX + 1];
    const Cairn__RunRecord *record; /* borrowed from its entry */
    bool in_lineage;                /* the exported run or an ancestor */
    bool skip;                      /* the store already holds it */
} s_run_t;

typedef struct {
    uint8_t *data; /* the whole file */
    size_t len;
    char run_id[S_RUN_ID_MAX + 1]; /* the exported run */
    s_entry_t *entries;
    size_t entry_count;
    s_run_t *runs;
    size_t run_count;
} s_import_t;

static void
s_import_clear(s_import_t *im)
{
    for (size_t i = 0; i < im->entry_count; i++)
        if (im->entries[i].msg)
            protobuf_c_message_free_unpacked(im->entries[i].msg, NULL);
    free(im->entries);
    free(im->runs);
    free(im->data);
    memset(im, 0, sizeof *im);
}

/* Reads in to its end, or only its start when that is not an export. */
static int
s_slurp(s_import_t *im, FILE *in, cairn_error_t *err)
{
    size_t capacity = 0;
    errno = 0;
    for (;;) {
        if (im->len == capacity) {
            size_t grown_capacity = capacity ? capacity * 2 : 65536;
            uint8_t *grown = grown_capacity > capacity
                                 ? realloc(im->data, grown_capacity)
                                 : NULL;
            if (!grown)
                return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
            im->data = grown;
            capacity = grown_capacity;
        }
        size_t got = fread(im->data + im->len, 1, capacity - im->len, in);
        im->len += got;
        if (got == 0)
            break;
        /* Not an export (/dev/zero, say): stop here, the header check
         * says so, rather than read it all. */
        if (im->len >= S_MAGIC_LEN && memcmp(im->data, S_MAGIC, S_MAGIC_LEN))
            break;
    }
    if (ferror(in))
        return cairn_error_set(err, CAIRN_ESTORE, "cannot read the export: %s",
                               strerror(errno ? errno : EIO));
    return CAIRN_OK;
}

static int
s_truncated(cairn_error_t *err, const char *where, size_t index)
{
    if (index)
        return cairn_error_set(err, CAIRN_ECORRUPT,
                               S_PREFIX "entry %zu: truncated", index);
    return cairn_error_set(err, CAIRN_ECORRUPT, S_PREFIX "%s: truncated",
                           where ? where : "entry");
}

/* Checks the header; *pos is where the entries start. */
static int
s_parse_header(s_import_t *im, size_t *pos, cairn_error_t *err)
{
    const uint8_t *d = im->data;
    size_t magic = im->len < S_MAGIC_LEN ? im->len : S_MAGIC_LEN;
    if (im->len == 0 || memcmp(d, S_MAGIC, magic) != 0)
        return cairn_error_set(err, CAIRN_EINVAL,
                               S_PREFIX "not a cairn export");
    if (im->len <= S_MAGIC_LEN)
        return s_truncated(err, "header", 0);
    if (d[S_MAGIC_LEN] > S_FORMAT)
        return cairn_error_set(err, CAIRN_EFORMAT,
                               S_PREFIX "export format %u is newer than "
                                        "this cairn reads (%u)",
                               d[S_MAGIC_LEN], S_FORMAT);
    if (d[S_MAGIC_LEN] == 0)
        return cairn_error_set(err, CAIRN_ECORRUPT,
                               S_PREFIX "header: unknown export format 0");
    if (im->len < S_HEADER_FIXED)
        return s_truncated(err, "header", 0);
    uint32_t id_len = s_get_u32(d + S_MAGIC_LEN + 1);
    if (id_len == 0 || id_len > S_RUN_ID_MAX)
        return cairn_error_set(err, CAIRN_ECORRUPT,
                               S_PREFIX "header: bad run id length %u", id_len);
    size_t end = S_HEADER_FIXED + id_len;
    if (im->len < end + S_CRC_LEN)
        return s_truncated(err, "header", 0);
    uint32_t crc = s_crc((uint32_t)crc32(0L, Z_NULL, 0), d, end);
    if (crc != s_get_u32(d + end))
        return cairn_error_set(err, CAIRN_ECORRUPT,
                               S_PREFIX "header: checksum mismatch");
    memcpy(im->run_id, d + S_HEADER_FIXED, id_len);
    im->run_id[id_len] = '\0';
    if (!cairn__valid_id(im->run_id))
        return cairn_error_set(err, CAIRN_ECORRUPT,
                               S_PREFIX "header: bad run id");
    *pos = end + S_CRC_LEN;
    return CAIRN_OK;
}

/* Splits the entries (numbered from 1) and checks every CRC and the
 * trailer. Decodes nothing yet. */
static int
s_parse_entries(s_import_t *im, size_t pos, cairn_error_t *err)
{
    for (size_t index = 1;; index++) {
        const uint8_t *d = im->data + pos;
        size_t left = im->len - pos;
        if (left < S_ENTRY_HEAD)
            return s_truncated(err, NULL, index);
        size_t key_len = s_get_u32(d + 1), value_len = s_get_u32(d + 5);
        if (left - S_ENTRY_HEAD < S_CRC_LEN
            || key_len > left - S_ENTRY_HEAD - S_CRC_LEN
            || value_len > left - S_ENTRY_HEAD - S_CRC_LEN - key_len)
            return s_truncated(err, NULL, index);
        const uint8_t *key = d + S_ENTRY_HEAD, *value = key + key_len;
        if (s_entry_crc(d, key, key_len, value, value_len)
            != s_get_u32(value + value_len))
            return cairn_error_set(err, CAIRN_ECORRUPT,
                                   S_PREFIX "entry %zu: checksum mismatch",
                                   index);
        pos += S_ENTRY_HEAD + key_len + value_len + S_CRC_LEN;
        if (d[0] == S_TRAILER) {
            uint64_t said = value_len == 8 ? s_get_u64(value) : UINT64_MAX;
            if (key_len != 0 || said != im->entry_count)
                return cairn_error_set(err, CAIRN_ECORRUPT,
                                       S_PREFIX
                                       "entry %zu: the trailer does "
                                       "not match the %zu entries before it",
                                       index, im->entry_count);
            if (pos != im->len)
                return cairn_error_set(err, CAIRN_ECORRUPT,
                                       S_PREFIX "%zu bytes after the trailer",
                                       im->len - pos);
            return CAIRN_OK;
        }
        const s_family_t *family = NULL;
        for (size_t f = 0; f < S_FAMILIES; f++)
            if (s_families[f].byte == d[0])
                family = &s_families[f];
        if (!family)
            return cairn_error_set(err, CAIRN_ECORRUPT,
                                   S_PREFIX "entry %zu: unknown column "
                                            "family %u",
                                   index, d[0]);
        if (!CAIRN__GROW(im->entries, im->entry_count))
            return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
        s_entry_t *e = &im->entries[im->entry_count++];
        memset(e, 0, sizeof *e);
        e->family = family;
        e->key = key;
        e->key_len = key_len;
        e->value = value;
        e->value_len = value_len;
    }
}

static s_run_t *
s_find_run(s_import_t *im, const char *id, size_t id_len)
{
    for (size_t i = 0; i < im->run_count; i++)
        if (strlen(im->runs[i].id) == id_len
            && memcmp(im->runs[i].id, id, id_len) == 0)
            return &im->runs[i];
    return NULL;
}

/* Decodes entry index (0-based) and registers run records. */
static int
s_check_entry(s_import_t *im, size_t index, cairn_error_t *err)
{
    s_entry_t *e = &im->entries[index];
    char what[256], inner_what[300];
    s_describe(e->family, e->key, e->key_len, what, sizeof what);
    snprintf(inner_what, sizeof inner_what, S_PREFIX "entry %zu: %s", index + 1,
             what);
    int rc = cairn__record_unpack(e->family->desc, e->value, e->value_len,
                                  inner_what, &e->msg, err);
    if (rc != CAIRN_OK)
        return rc;
    size_t run_len = e->key_len;
    if (e->family->cf != CAIRN__CF_RUNS) {
        const uint8_t *nul = memchr(e->key, '\0', e->key_len);
        run_len = nul ? (size_t)(nul - e->key) : SIZE_MAX;
    }
    char id[S_RUN_ID_MAX + 1];
    if (run_len <= S_RUN_ID_MAX) {
        memcpy(id, e->key, run_len);
        id[run_len] = '\0';
    }
    if (run_len > S_RUN_ID_MAX || !cairn__valid_id(id))
        return cairn_error_set(err, CAIRN_ECORRUPT,
                               S_PREFIX "entry %zu: malformed %s key",
                               index + 1, e->family->name);
    if (e->family->cf == CAIRN__CF_RUNS) {
        const Cairn__RunRecord *run = (const Cairn__RunRecord *)e->msg;
        if (!run->run_id || strcmp(run->run_id, id) != 0)
            return cairn_error_set(err, CAIRN_ECORRUPT,
                                   S_PREFIX "entry %zu: run record '%s' "
                                            "names run '%s'",
                                   index + 1, id,
                                   run->run_id ? run->run_id : "");
        if (s_find_run(im, id, run_len))
            return cairn_error_set(err, CAIRN_ECORRUPT,
                                   S_PREFIX "entry %zu: run '%s' appears "
                                            "twice",
                                   index + 1, id);
        if (!CAIRN__GROW(im->runs, im->run_count))
            return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
        s_run_t *r = &im->runs[im->run_count++];
        memset(r, 0, sizeof *r);
        snprintf(r->id, sizeof r->id, "%s", id);
        r->record = run;
        e->run = im->run_count - 1;
    } else if (e->family->cf != CAIRN__CF_CHECKPOINTS
               && e->family->cf != CAIRN__CF_EVENTS) {
        /* Only run and checkpoint records (and the checkpoint ids in
         * events) may be rewritten. */
        protobuf_c_message_free_unpacked(e->msg, NULL);
        e->msg = NULL;
    }
    return CAIRN_OK;
}

/* Every record decodes, every key belongs to a run of the exported
 * run's lineage, and that lineage is complete in the file. */
static int
s_check_contents(s_import_t *im, cairn_error_t *err)
{
    int rc = CAIRN_OK;
    for (size_t i = 0; rc == CAIRN_OK && i < im->entry_count; i++)
        rc = s_check_entry(im, i, err);
    for (size_t i = 0; rc == CAIRN_OK && i < im->entry_count; i++) {
        s_entry_t *e = &im->entries[i];
        if (e->family->cf == CAIRN__CF_RUNS)
            continue;
        size_t run_len =
            (size_t)((const uint8_t *)memchr(e->key, '\0', e->key_len)
                     - e->key);
        s_run_t *run = s_find_run(im, (const char *)e->key, run_len);
        if (!run)
            return cairn_error_set(err, CAIRN_ECORRUPT,
                                   S_PREFIX
                                   "entry %zu: belongs to run "
                                   "'%.*s', whose run record is not in the "
                                   "file",
                                   i + 1, (int)run_len, (const char *)e->key);
        e->run = (size_t)(run - im->runs);
    }
    if (rc != CAIRN_OK)
        return rc;
    s_run_t *at = s_find_run(im, im->run_id, strlen(im->run_id));
    if (!at)
        return cairn_error_set(err, CAIRN_ECORRUPT,
                               S_PREFIX "the run record of '%s' is missing",
                               im->run_id);
    while (at) {
        if (at->in_lineage)
            return cairn_error_set(err, CAIRN_ECORRUPT,
                                   S_PREFIX "the lineage of run '%s' is "
                                            "cyclic",
                                   im->run_id);
        at->in_lineage = true;
        const char *parent = at->record->parent;
        if (!parent || !*parent)
            break;
        char parent_run[S_RUN_ID_MAX + 1];
        uint64_t step;
        if (!cairn__checkpoint_id_parse(parent, parent_run, sizeof parent_run,
                                        &step))
            return cairn_error_set(err, CAIRN_ECORRUPT,
                                   S_PREFIX "run '%s' has a bad parent "
                                            "'%s'",
                                   at->id, parent);
        s_run_t *up = s_find_run(im, parent_run, strlen(parent_run));
        if (!up)
            return cairn_error_set(err, CAIRN_ECORRUPT,
                                   S_PREFIX
                                   "run '%s' was forked from '%s', "
                                   "whose run is missing from the file",
                                   at->id, parent);
        at = up;
    }
    for (size_t i = 0; i < im->run_count; i++)
        if (!im->runs[i].in_lineage)
            return cairn_error_set(err, CAIRN_ECORRUPT,
                                   S_PREFIX "run '%s' is not in the lineage "
                                            "of run '%s'",
                                   im->runs[i].id, im->run_id);
    return CAIRN_OK;
}

/* ---- import: deciding and writing ---------------------------------------- */

/* *out is the store's run record of id, or NULL when there is none. */
static int
s_stored_run(cairn_store_t *self, const char *id, Cairn__RunRecord **out,
             cairn_error_t *err)
{
    *out = NULL;
    int rc = cairn__store_get_run_record(self, id, out, err);
    if (rc == CAIRN_ENOTFOUND) {
        cairn_error_clear(err);
        return CAIRN_OK;
    }
    return rc;
}

/* Checks that the target id is free and decides which ancestors the
 * store already holds. */
static int
s_plan(cairn_store_t *self, s_import_t *im, const char *target, bool renamed,
       cairn_error_t *err)
{
    Cairn__RunRecord *existing = NULL;
    int rc = s_stored_run(self, target, &existing, err);
    if (rc != CAIRN_OK)
        return rc;
    if (existing) {
        cairn__run_record__free_unpacked(existing, NULL);
        if (renamed)
            return cairn_error_set(err, CAIRN_EEXISTS,
                                   "run '%s' already exists in the store",
                                   target);
        return cairn_error_set(err, CAIRN_EEXISTS,
                               "run '%s' already exists in the store; use "
                               "--as ID",
                               target);
    }
    for (size_t i = 0; i < im->run_count; i++) {
        s_run_t *run = &im->runs[i];
        if (strcmp(run->id, im->run_id) == 0)
            continue;
        if (renamed && strcmp(run->id, target) == 0)
            return cairn_error_set(err, CAIRN_EEXISTS,
                                   "run '%s' is an ancestor of run '%s' in "
                                   "the export; choose another id",
                                   target, im->run_id);
        rc = s_stored_run(self, run->id, &existing, err);
        if (rc != CAIRN_OK)
            return rc;
        if (!existing)
            continue;
        /* The same run (it was created once, with one workflow), or a
         * stranger under the same id that the fork must not read. */
        bool same =
            existing->created_ms == run->record->created_ms
            && existing->signature.len == run->record->signature.len
            && (existing->signature.len == 0
                || memcmp(existing->signature.data, run->record->signature.data,
                          existing->signature.len)
                       == 0);
        cairn__run_record__free_unpacked(existing, NULL);
        if (!same)
            return cairn_error_set(err, CAIRN_EEXISTS,
                                   "ancestor run '%s' of run '%s' exists in "
                                   "the store but is a different run",
                                   run->id, im->run_id);
        run->skip = true;
    }
    return CAIRN_OK;
}

/* "FROM@N" -> "TO@N" into out when text names a checkpoint of run from;
 * else NULL. */
static char *
s_rename_checkpoint(const char *text, const char *from, const char *to,
                    char *out, size_t size)
{
    size_t from_len = strlen(from);
    if (!text || strncmp(text, from, from_len) != 0 || text[from_len] != '@')
        return NULL;
    snprintf(out, size, "%s%s", to, text + from_len);
    return out;
}

/* Re-frames a run, checkpoint or event record of the renamed run; the caller
 * frees *value. Borrowed strings are swapped in and swapped back, so the
 * decoded message still owns exactly what it allocated. */
static uint8_t *
s_renamed_value(const s_entry_t *e, const char *from, const char *to,
                size_t *len)
{
    char latest[CAIRN_CHECKPOINT_ID_MAX], parent[CAIRN_CHECKPOINT_ID_MAX];
    uint8_t *value = NULL;
    if (e->family->cf == CAIRN__CF_EVENTS) {
        /* checkpoint_written names its checkpoint "FROM@N"; the renamed
         * ids live in names until the block is packed */
        Cairn__EventBlock *block = (Cairn__EventBlock *)e->msg;
        char **old = calloc(block->n_events ? block->n_events : 1,
                            sizeof *old);
        char (*names)[CAIRN_CHECKPOINT_ID_MAX] =
            calloc(block->n_events ? block->n_events : 1, sizeof *names);
        for (size_t i = 0; old && names && i < block->n_events; i++) {
            Cairn__EventRecord *event = block->events[i];
            old[i] = event->detail;
            char *renamed = s_rename_checkpoint(event->detail, from, to,
                                                names[i], sizeof names[i]);
            if (event->kind == CAIRN_EVENT_CHECKPOINT_WRITTEN && renamed)
                event->detail = renamed;
        }
        if (old && names)
            value = cairn__record_pack(&block->base, len);
        for (size_t i = 0; old && names && i < block->n_events; i++)
            block->events[i]->detail = old[i];
        free(old);
        free(names);
    } else if (e->family->cf == CAIRN__CF_RUNS) {
        Cairn__RunRecord *run = (Cairn__RunRecord *)e->msg;
        char *old_id = run->run_id, *old_latest = run->latest_checkpoint,
             *old_parent = run->parent;
        char *new_latest =
            s_rename_checkpoint(old_latest, from, to, latest, sizeof latest);
        char *new_parent =
            s_rename_checkpoint(old_parent, from, to, parent, sizeof parent);
        run->run_id = (char *)to;
        run->latest_checkpoint = new_latest ? new_latest : old_latest;
        run->parent = new_parent ? new_parent : old_parent;
        value = cairn__record_pack(&run->base, len);
        run->run_id = old_id;
        run->latest_checkpoint = old_latest;
        run->parent = old_parent;
    } else {
        Cairn__CheckpointRecord *cp = (Cairn__CheckpointRecord *)e->msg;
        char *old_id = cp->run_id, *old_parent = cp->parent;
        char *new_parent =
            s_rename_checkpoint(old_parent, from, to, parent, sizeof parent);
        cp->run_id = (char *)to;
        cp->parent = new_parent ? new_parent : old_parent;
        value = cairn__record_pack(&cp->base, len);
        cp->run_id = old_id;
        cp->parent = old_parent;
    }
    return value;
}

/* Adds every entry to one batch (renaming the exported run to target
 * when it differs) and commits it. */
static int
s_write_import(cairn_store_t *self, const s_import_t *im, const char *target,
               cairn_error_t *err)
{
    const cairn__backend_ops_t *ops = self->backend->ops;
    bool rename = strcmp(target, im->run_id) != 0;
    size_t from_len = strlen(im->run_id);
    cairn__batch_t *batch = ops->batch_new(self->backend);
    if (!batch)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    cairn__key_t key = {0};
    bool ok = true;
    for (size_t i = 0; ok && i < im->entry_count; i++) {
        const s_entry_t *e = &im->entries[i];
        const s_run_t *run = &im->runs[e->run];
        if (run->skip)
            continue;
        if (!rename || strcmp(run->id, im->run_id) != 0) {
            ops->batch_put(batch, e->family->cf, e->key, e->key_len, e->value,
                           e->value_len);
            continue;
        }
        cairn__key_reset(&key);
        cairn__key_add_text(&key, target, false);
        cairn__key_add_bytes(&key, e->key + from_len, e->key_len - from_len);
        size_t len = e->value_len;
        uint8_t *value =
            e->msg ? s_renamed_value(e, im->run_id, target, &len) : NULL;
        ok = !key.out_of_memory && (!e->msg || value);
        if (ok)
            ops->batch_put(batch, e->family->cf, key.data, key.len,
                           value ? value : e->value, len);
        free(value);
    }
    cairn__key_free(&key);
    int rc = ok ? ops->batch_commit(
                 self->backend, batch,
                 self->durability == CAIRN_DURABILITY_MACHINE, err)
                : cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    ops->batch_free(batch);
    return rc;
}

int
cairn_store_import(cairn_store_t *self, FILE *in, const char *as_id,
                   char imported_id[CAIRN_CHECKPOINT_ID_MAX],
                   cairn_error_t *err)
{
    cairn_error_clear(err);
    if (imported_id)
        imported_id[0] = '\0';
    if (!self || !in)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "import needs a store and a file");
    if (self->read_only)
        return cairn_error_set(err, CAIRN_ESTATE, "store is read-only");
    if (as_id && !cairn__valid_id(as_id))
        return cairn_error_set(err, CAIRN_EINVAL,
                               "run id '%s' must match [A-Za-z0-9_-]{1,64}",
                               as_id);
    s_import_t im;
    memset(&im, 0, sizeof im);
    size_t pos = 0;
    int rc = s_slurp(&im, in, err);
    if (rc == CAIRN_OK)
        rc = s_parse_header(&im, &pos, err);
    if (rc == CAIRN_OK)
        rc = s_parse_entries(&im, pos, err);
    if (rc == CAIRN_OK)
        rc = s_check_contents(&im, err);
    const char *target = as_id ? as_id : im.run_id;
    if (rc == CAIRN_OK)
        rc = s_plan(self, &im, target, as_id != NULL, err);
    if (rc == CAIRN_OK)
        rc = s_write_import(self, &im, target, err);
    if (rc == CAIRN_OK && imported_id)
        snprintf(imported_id, CAIRN_CHECKPOINT_ID_MAX, "%s", target);
    s_import_clear(&im);
    return rc;
}
