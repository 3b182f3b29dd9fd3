/* fuzz_import - an export file through cairn_store_import.
 *
 * The input is an export file (format in docs/storage.md). It is
 * imported, read through fmemopen(), into a fresh memory store.
 *
 * Export files carry CRC-32s (header, every entry, and every stored
 * record inside an entry) that random mutation almost never gets right.
 * So when the input parses as header + entries, a second copy with every
 * checksum recomputed is imported too (into another fresh store): that
 * reaches the record decoding, the lineage checks, renaming and the
 * batch. After a successful import the run is listed, loaded, exported
 * again, and the same file is imported a second time under another id
 * (ancestors already present, renaming).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz.h"
#include "fuzz_fixture.h"
#include "storage/record.h"

#define S_MAGIC_LEN 8
#define S_HEADER_FIXED 13 /* magic, format byte, run id length */
#define S_ENTRY_HEAD 9    /* family byte, key length, value length */

static FILE *s_null;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    s_null = fopen("/dev/null", "w+");
    FUZZ_REQUIRE(s_null);
    return 0;
}

static uint32_t
s_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
           | (uint32_t)p[3] << 24;
}

static void
s_put_crc(uint8_t *at, const uint8_t *data, size_t len)
{
    uLong crc = crc32(crc32(0L, Z_NULL, 0), data, (uInt)len);
    for (int i = 0; i < 4; i++)
        at[i] = (uint8_t)(crc >> (8 * i));
}

/* Recomputes every CRC of buf in place as far as it parses. */
static void
s_fix_checksums(uint8_t *buf, size_t len)
{
    if (len < S_HEADER_FIXED)
        return;
    size_t id_len = s_u32(buf + S_MAGIC_LEN + 1);
    if (id_len > len - S_HEADER_FIXED || len - S_HEADER_FIXED - id_len < 4)
        return;
    size_t pos = S_HEADER_FIXED + id_len;
    s_put_crc(buf + pos, buf, pos);
    pos += 4;
    while (len - pos >= S_ENTRY_HEAD) {
        size_t key_len = s_u32(buf + pos + 1);
        size_t value_len = s_u32(buf + pos + 5);
        size_t body = S_ENTRY_HEAD;
        if (key_len > len - pos - body)
            return;
        body += key_len;
        if (value_len > len - pos - body)
            return;
        uint8_t *value = buf + pos + body;
        body += value_len;
        if (len - pos - body < 4)
            return;
        if (value_len >= CAIRN__RECORD_HEADER && value[0] == 'c')
            s_put_crc(value + 2, value + CAIRN__RECORD_HEADER,
                      value_len - CAIRN__RECORD_HEADER);
        s_put_crc(buf + pos + body, buf + pos, body);
        pos += body + 4;
    }
}

static void
s_after_import(cairn_store_t *store, const char *run_id, const uint8_t *file,
               size_t size)
{
    cairn_error_t err;
    unsigned sum = 0;
    cairn_run_info_t *runs = NULL;
    size_t run_count = 0;
    if (cairn_store_list_runs(store, &runs, &run_count, &err) == CAIRN_OK) {
        for (size_t i = 0; i < run_count; i++)
            sum += fuzz_touch_str(runs[i].id) + fuzz_touch_str(runs[i].parent);
        cairn_run_info_destroy(&runs, run_count);
    }
    cairn_checkpoint_info_t *infos = NULL;
    size_t count = 0;
    if (cairn_store_list_checkpoints(store, run_id, 0, NULL, &infos, &count,
                                     &err)
        == CAIRN_OK) {
        for (size_t i = 0; i < count; i++) {
            cairn_checkpoint_t *cp = NULL;
            if (cairn_store_get_checkpoint(store, infos[i].id, &cp, &err)
                == CAIRN_OK) {
                sum += (unsigned)cairn_checkpoint_output_count(cp);
                cairn_checkpoint_destroy(&cp);
            }
        }
        cairn_checkpoint_info_destroy(&infos, count);
    }
    rewind(s_null);
    if (cairn_store_export(store, run_id, s_null, &err) != CAIRN_OK)
        FUZZ_REQUIRE(err.message[0]);
    /* Again under another id: the ancestors are there already. */
    FILE *in = fmemopen((void *)file, size, "r");
    if (in) {
        char imported[CAIRN_CHECKPOINT_ID_MAX];
        if (cairn_store_import(store, in, "fuzz-copy", imported, &err)
            != CAIRN_OK)
            FUZZ_REQUIRE(err.message[0]);
        fclose(in);
    }
    (void)sum;
}

static void
s_import(const uint8_t *file, size_t size)
{
    cairn_store_t *store = NULL;
    cairn_error_t err;
    FUZZ_REQUIRE(cairn_store_open_memory(&store, &err) == CAIRN_OK);
    FILE *in =
        size ? fmemopen((void *)file, size, "r") : fopen("/dev/null", "r");
    FUZZ_REQUIRE(in);
    char imported[CAIRN_CHECKPOINT_ID_MAX];
    int rc = cairn_store_import(store, in, NULL, imported, &err);
    fclose(in);
    if (rc == CAIRN_OK)
        s_after_import(store, imported, file, size);
    else
        FUZZ_REQUIRE(err.code == rc && err.message[0]);
    cairn_store_destroy(&store);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_import(data, size);
    uint8_t *fixed = malloc(size ? size : 1);
    FUZZ_REQUIRE(fixed);
    memcpy(fixed, data, size);
    s_fix_checksums(fixed, size);
    if (size && memcmp(fixed, data, size) != 0)
        s_import(fixed, size);
    free(fixed);
    return 0;
}
