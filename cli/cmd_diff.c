/* cmd_diff.c - `cairn diff RUN_A RUN_B`: how two runs differ.
 *
 * Read-only (the store is opened as inspection does). It compares the
 * runs' statuses, superstep counts, outputs and final executor and
 * shared states (their latest checkpoints), and finds the first
 * superstep where they diverge: both lineages (a run's own checkpoints,
 * then its parent's up to the fork point, and so on) are walked by
 * superstep, and at every superstep both have a checkpoint of, state,
 * shared state, outputs so far and messages in flight are compared. A
 * checkpoint both lineages share (before a fork point) is equal without
 * being loaded. When one run has supersteps the other never reached,
 * they diverge at the first of those. Supersteps only one lineage has a
 * checkpoint of (sparse policies) cannot be compared: the divergence is
 * then known to lie after the last superstep compared equal, and is
 * reported as inexact.
 *
 * Exit 0 when the runs are identical, 1 when they differ, 2 for unknown
 * runs or usage errors.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define S_MAX_LINEAGE 1024

/* One checkpoint of a lineage. */
typedef struct {
    uint64_t superstep;
    char id[CAIRN_CHECKPOINT_ID_MAX];
} s_point_t;

/* A run's lineage, oldest first, one checkpoint per superstep. */
typedef struct {
    s_point_t *points;
    size_t count;
} s_lineage_t;

/* What a checkpoint holds, as JSON, and its in-flight bytes. State keys
 * are arbitrary bytes and JSON member names must be UTF-8, so the maps
 * are keyed by the hex of each key: one-to-one, and it sorts as the
 * bytes do. s_key_json turns it back for the output. */
typedef struct {
    json_t *state;   /* {executor: {hex(key): value}} */
    json_t *shared;  /* {hex(key): value} */
    json_t *outputs; /* [value] */
    uint8_t *inflight;
    size_t inflight_len;
} s_snapshot_t;

/* How the runs diverge. */
typedef struct {
    bool diverged;
    uint64_t superstep; /* first superstep found to differ */
    bool has_equal;
    uint64_t last_equal; /* last superstep compared equal */
    const char *what;    /* what differs there */
} s_divergence_t;

static void
s_snapshot_free(s_snapshot_t *s)
{
    json_decref(s->state);
    json_decref(s->shared);
    json_decref(s->outputs);
    free(s->inflight);
    memset(s, 0, sizeof *s);
}

static void
s_collect_state(const char *executor, const char *key, const uint8_t *value,
                size_t len, void *userdata)
{
    s_snapshot_t *s = userdata;
    size_t n = strlen(key);
    char *hex = malloc(2 * n + 1);
    if (!hex)
        return;
    for (size_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)key[i]);
    hex[2 * n] = '\0';
    json_t *scope = s->shared;
    if (executor) {
        scope = json_object_get(s->state, executor);
        if (!scope) {
            scope = json_object();
            json_object_set_new(s->state, executor, scope);
        }
    }
    json_object_set_new(scope, hex, cli_payload_json(value, len));
    free(hex);
}

/* The state key a hex member name of s_collect_state stands for, as
 * cli_text_json: a string, or {"base64": ...} when it is not UTF-8. */
static json_t *
s_key_json(const char *hex)
{
    size_t n = strlen(hex) / 2;
    char *key = malloc(n + 1);
    if (!key)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned byte = 0;
        sscanf(hex + 2 * i, "%2x", &byte);
        key[i] = (char)byte;
    }
    key[n] = '\0';
    json_t *out = cli_text_json(key);
    free(key);
    return out;
}

static int
s_snapshot(cairn_store_t *store, const char *id, s_snapshot_t *s,
           cairn_error_t *err)
{
    memset(s, 0, sizeof *s);
    cairn_checkpoint_t *cp = NULL;
    int rc = cairn_store_get_checkpoint(store, id, &cp, err);
    if (rc != CAIRN_OK)
        return rc;
    s->state = json_object();
    s->shared = json_object();
    s->outputs = json_array();
    if (!s->state || !s->shared || !s->outputs) {
        rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    } else {
        cairn_checkpoint_foreach_state(cp, s_collect_state, s);
        for (size_t i = 0; i < cairn_checkpoint_output_count(cp); i++) {
            size_t len;
            const uint8_t *data = cairn_checkpoint_output(cp, i, &len);
            json_array_append_new(s->outputs, cli_payload_json(data, len));
        }
        if (cairn_checkpoint_inflight_bytes(cp, &s->inflight, &s->inflight_len)
            != CAIRN_OK)
            rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    }
    cairn_checkpoint_destroy(&cp);
    if (rc != CAIRN_OK)
        s_snapshot_free(s);
    return rc;
}

/* What differs between two snapshots, or NULL when nothing does. */
static const char *
s_difference(const s_snapshot_t *a, const s_snapshot_t *b)
{
    if (!json_equal(a->state, b->state))
        return "executor state";
    if (!json_equal(a->shared, b->shared))
        return "shared state";
    if (!json_equal(a->outputs, b->outputs))
        return "outputs";
    if (a->inflight_len != b->inflight_len
        || memcmp(a->inflight, b->inflight, a->inflight_len) != 0)
        return "messages in flight";
    return NULL;
}

/* ---- lineage ------------------------------------------------------------ */

static int
s_add_point(s_lineage_t *l, uint64_t superstep, const char *id)
{
    s_point_t *grown = realloc(l->points, (l->count + 1) * sizeof *grown);
    if (!grown)
        return CAIRN_ENOMEM;
    l->points = grown;
    l->points[l->count].superstep = superstep;
    snprintf(l->points[l->count].id, sizeof l->points[l->count].id, "%s", id);
    l->count++;
    return CAIRN_OK;
}

/* The run's own checkpoints, then each ancestor's up to its fork point,
 * keeping the closest run's checkpoint of each superstep. */
static int
s_lineage(cairn_store_t *store, const char *run_id, s_lineage_t *l,
          cairn_error_t *err)
{
    memset(l, 0, sizeof *l);
    char at[CAIRN_CHECKPOINT_ID_MAX];
    snprintf(at, sizeof at, "%s", run_id);
    uint64_t upto = UINT64_MAX;
    int rc = CAIRN_OK;
    for (size_t depth = 0; rc == CAIRN_OK; depth++) {
        if (depth == S_MAX_LINEAGE) {
            rc = cairn_error_set(err, CAIRN_ECORRUPT,
                                 "lineage of run '%s' is too long or "
                                 "cyclic",
                                 run_id);
            break;
        }
        cairn_run_info_t *info = NULL;
        cairn_checkpoint_info_t *infos = NULL;
        size_t count = 0;
        rc = cairn_store_get_run(store, at, &info, err);
        if (rc == CAIRN_OK)
            rc = cairn_store_list_checkpoints(store, at, 0, NULL, &infos,
                                              &count, err);
        /* newest first; lower supersteps than the closest run's only */
        for (size_t i = 0; rc == CAIRN_OK && i < count; i++) {
            uint64_t step = infos[i].superstep;
            bool below =
                l->count == 0 || step < l->points[l->count - 1].superstep;
            if (step <= upto && below
                && s_add_point(l, step, infos[i].id) != CAIRN_OK)
                rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
        }
        cairn_checkpoint_info_destroy(&infos, count);
        char parent[CAIRN_CHECKPOINT_ID_MAX] = "";
        if (info)
            snprintf(parent, sizeof parent, "%s", info->parent);
        cairn_run_info_destroy(&info, info ? 1 : 0);
        char *sep = strrchr(parent, '@');
        if (rc != CAIRN_OK || !*parent)
            break;
        if (!sep || !cli_parse_u64(sep + 1, &upto)) {
            rc = cairn_error_set(err, CAIRN_ECORRUPT,
                                 "run '%s' has a malformed parent '%s'", at,
                                 parent);
            break;
        }
        *sep = '\0';
        snprintf(at, sizeof at, "%s", parent);
    }
    if (rc != CAIRN_OK) {
        free(l->points);
        l->points = NULL;
        l->count = 0;
        return rc;
    }
    /* oldest first */
    for (size_t i = 0; i < l->count / 2; i++) {
        s_point_t t = l->points[i];
        l->points[i] = l->points[l->count - 1 - i];
        l->points[l->count - 1 - i] = t;
    }
    if (l->count == 0)
        return cairn_error_set(err, CAIRN_ENOTFOUND,
                               "run '%s' has no checkpoints", run_id);
    return CAIRN_OK;
}

/* Walks both lineages by superstep; see the top of the file. */
static int
s_diverge(cairn_store_t *store, const s_lineage_t *a, const s_lineage_t *b,
          s_divergence_t *d, cairn_error_t *err)
{
    memset(d, 0, sizeof *d);
    size_t i = 0, j = 0;
    while (i < a->count && j < b->count) {
        uint64_t sa = a->points[i].superstep, sb = b->points[j].superstep;
        if (sa != sb) {
            i += sa < sb;
            j += sb < sa;
            continue;
        }
        if (strcmp(a->points[i].id, b->points[j].id) != 0) {
            s_snapshot_t x, y;
            int rc = s_snapshot(store, a->points[i].id, &x, err);
            if (rc != CAIRN_OK)
                return rc;
            rc = s_snapshot(store, b->points[j].id, &y, err);
            if (rc != CAIRN_OK) {
                s_snapshot_free(&x);
                return rc;
            }
            d->what = s_difference(&x, &y);
            s_snapshot_free(&x);
            s_snapshot_free(&y);
            if (d->what) {
                d->diverged = true;
                d->superstep = sa;
                return CAIRN_OK;
            }
        }
        d->has_equal = true;
        d->last_equal = sa;
        i++, j++;
    }
    uint64_t end_a = a->points[a->count - 1].superstep;
    uint64_t end_b = b->points[b->count - 1].superstep;
    if (end_a != end_b) {
        d->diverged = true;
        d->superstep = (end_a < end_b ? end_a : end_b) + 1;
        d->what = "superstep count";
    }
    return CAIRN_OK;
}

static bool
s_exact(const s_divergence_t *d)
{
    return d->superstep == 0
           || (d->has_equal && d->last_equal + 1 == d->superstep);
}

/* ---- final states ---------------------------------------------------------
 */

static int
s_compare_text(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The keys of objects a and b, each once, sorted bytewise. The strings
 * belong to *keys (json_decref it after the array is freed); the array
 * is malloc'd, NULL on out-of-memory. */
static const char **
s_union_keys(json_t *a, json_t *b, json_t **keys, size_t *count)
{
    *keys = json_object();
    const char *key;
    json_t *value;
    json_object_foreach(a, key, value) json_object_set(*keys, key, json_true());
    json_object_foreach(b, key, value) json_object_set(*keys, key, json_true());
    const char **sorted = calloc(json_object_size(*keys) + 1, sizeof *sorted);
    *count = 0;
    json_object_foreach(*keys, key, value) if (sorted) sorted[(*count)++] = key;
    if (sorted)
        qsort(sorted, *count, sizeof *sorted, s_compare_text);
    else
        *count = 0;
    return sorted;
}

/* Appends {executor?, key, a, b} for each key of objects a and b whose
 * values differ (null where absent). */
static void
s_differing_keys(json_t *list, const char *executor, json_t *a, json_t *b)
{
    json_t *keys = NULL;
    size_t k = 0;
    const char **sorted = s_union_keys(a, b, &keys, &k);
    for (size_t x = 0; sorted && x < k; x++) {
        json_t *va = json_object_get(a, sorted[x]);
        json_t *vb = json_object_get(b, sorted[x]);
        if (va && vb && json_equal(va, vb))
            continue;
        json_t *entry = json_pack("{s:o, s:O?, s:O?}", "key",
                                  s_key_json(sorted[x]), "a", va, "b", vb);
        if (entry && executor)
            json_object_set_new(entry, "executor", json_string(executor));
        json_array_append_new(list, entry);
    }
    free(sorted);
    json_decref(keys);
}

/* Differing executor state: executors in id order, then keys. */
static json_t *
s_state_differences(const s_snapshot_t *a, const s_snapshot_t *b)
{
    json_t *list = json_array();
    json_t *empty = json_object();
    json_t *executors = NULL;
    size_t k = 0;
    const char **sorted = s_union_keys(a->state, b->state, &executors, &k);
    for (size_t x = 0; sorted && x < k; x++) {
        json_t *sa = json_object_get(a->state, sorted[x]);
        json_t *sb = json_object_get(b->state, sorted[x]);
        s_differing_keys(list, sorted[x], sa ? sa : empty, sb ? sb : empty);
    }
    free(sorted);
    json_decref(executors);
    json_decref(empty);
    return list;
}

/* ---- printing ---------------------------------------------------------------
 */

/* A key for the table: the text itself, or its JSON ({"base64": ...}). */
static void
s_key_text(json_t *key, char *out, size_t size)
{
    if (json_is_string(key)) {
        snprintf(out, size, "%s", json_string_value(key));
        return;
    }
    char *text = json_dumps(key, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(out, size, "%s", text ? text : "?");
    free(text);
}

/* A value for the table: the text itself (cut at 40), or its JSON. */
static void
s_value_text(json_t *value, char *out, size_t size)
{
    if (!value || json_is_null(value)) {
        snprintf(out, size, "-");
        return;
    }
    if (json_is_string(value)) {
        snprintf(out, size, "%.40s%s", json_string_value(value),
                 json_string_length(value) > 40 ? "..." : "");
        return;
    }
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(out, size, "%.40s", text ? text : "?");
    free(text);
}

static void
s_row(const char *label, json_t *a, json_t *b)
{
    char x[64], y[64];
    s_value_text(a, x, sizeof x);
    s_value_text(b, y, sizeof y);
    printf("%-28s %-44s %s\n", label, x, y);
}

static void
s_print_text(json_t *doc)
{
    json_t *status = json_object_get(doc, "status");
    json_t *steps = json_object_get(doc, "supersteps");
    json_t *outputs = json_object_get(doc, "outputs");
    s_row("", json_object_get(doc, "run_a"), json_object_get(doc, "run_b"));
    s_row("status", json_object_get(status, "a"), json_object_get(status, "b"));
    s_row("supersteps", json_object_get(steps, "a"),
          json_object_get(steps, "b"));
    json_t *oa = json_object_get(outputs, "a"),
           *ob = json_object_get(outputs, "b");
    size_t n = json_array_size(oa) > json_array_size(ob) ? json_array_size(oa)
                                                         : json_array_size(ob);
    printf("outputs (%s)\n", json_is_true(json_object_get(outputs, "equal"))
                                 ? "equal"
                                 : "differ");
    for (size_t i = 0; i < n; i++) {
        char label[32];
        snprintf(label, sizeof label, "  %zu", i + 1);
        s_row(label, json_array_get(oa, i), json_array_get(ob, i));
    }
    size_t i;
    json_t *entry;
    json_t *state = json_object_get(doc, "state");
    json_t *shared = json_object_get(doc, "shared");
    printf("state: %zu key(s) differ\n", json_array_size(state));
    json_array_foreach(state, i, entry)
    {
        char label[160], key[128];
        s_key_text(json_object_get(entry, "key"), key, sizeof key);
        snprintf(label, sizeof label, "  %s.%s",
                 json_string_value(json_object_get(entry, "executor")), key);
        s_row(label, json_object_get(entry, "a"), json_object_get(entry, "b"));
    }
    printf("shared state: %zu key(s) differ\n", json_array_size(shared));
    json_array_foreach(shared, i, entry)
    {
        char label[160], key[128];
        s_key_text(json_object_get(entry, "key"), key, sizeof key);
        snprintf(label, sizeof label, "  %s", key);
        s_row(label, json_object_get(entry, "a"), json_object_get(entry, "b"));
    }
    json_t *d = json_object_get(doc, "divergence");
    if (json_is_null(d) || !d) {
        printf("no divergence: every superstep both runs have a checkpoint "
               "of is equal\n");
        return;
    }
    json_int_t at = json_integer_value(json_object_get(d, "superstep"));
    json_t *after = json_object_get(d, "after");
    printf("diverged at superstep %lld: different %s", (long long)at,
           json_string_value(json_object_get(d, "what")));
    if (json_is_true(json_object_get(d, "exact")))
        printf(" (exact)\n");
    else if (json_is_integer(after))
        printf(" (or earlier, down to superstep %lld: only supersteps "
               "both runs have a checkpoint of are compared, and %lld is the "
               "last of those that agrees)\n",
               (long long)json_integer_value(after) + 1,
               (long long)json_integer_value(after));
    else
        printf(" (or earlier: no earlier superstep has a checkpoint in "
               "both runs)\n");
}

/* ---- the command ------------------------------------------------------------
 */

static json_t *
s_divergence_json(const s_divergence_t *d)
{
    if (!d->diverged)
        return json_null();
    json_t *after =
        d->has_equal ? json_integer((json_int_t)d->last_equal) : json_null();
    return json_pack("{s:I, s:o, s:b, s:s}", "superstep",
                     (json_int_t)d->superstep, "after", after, "exact",
                     s_exact(d), "what", d->what);
}

static int
s_compare(cairn_store_t *store, const char *run_a, const char *run_b,
          json_t **out, cairn_error_t *err)
{
    s_lineage_t la = {0}, lb = {0};
    s_snapshot_t fa = {0}, fb = {0};
    cairn_run_info_t *ia = NULL, *ib = NULL;
    s_divergence_t d;
    int rc = cairn_store_get_run(store, run_a, &ia, err);
    if (rc == CAIRN_OK)
        rc = cairn_store_get_run(store, run_b, &ib, err);
    if (rc == CAIRN_OK)
        rc = s_lineage(store, run_a, &la, err);
    if (rc == CAIRN_OK)
        rc = s_lineage(store, run_b, &lb, err);
    if (rc == CAIRN_OK)
        rc = s_snapshot(store, la.points[la.count - 1].id, &fa, err);
    if (rc == CAIRN_OK)
        rc = s_snapshot(store, lb.points[lb.count - 1].id, &fb, err);
    if (rc == CAIRN_OK)
        rc = s_diverge(store, &la, &lb, &d, err);
    if (rc == CAIRN_OK) {
        json_t *shared = json_array();
        s_differing_keys(shared, NULL, fa.shared, fb.shared);
        bool same_status = strcmp(ia->status, ib->status) == 0;
        *out = json_pack(
            "{s:s, s:s, s:b, s:{s:s, s:s}, s:{s:I, s:I}, s:{s:O, s:O, s:b}, "
            "s:o, s:o, s:o}",
            "run_a", run_a, "run_b", run_b, "identical",
            !d.diverged && same_status, "status", "a", ia->status, "b",
            ib->status, "supersteps", "a",
            (json_int_t)la.points[la.count - 1].superstep, "b",
            (json_int_t)lb.points[lb.count - 1].superstep, "outputs", "a",
            fa.outputs, "b", fb.outputs, "equal",
            json_equal(fa.outputs, fb.outputs), "state",
            s_state_differences(&fa, &fb), "shared", shared, "divergence",
            s_divergence_json(&d));
        if (!*out)
            rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    }
    s_snapshot_free(&fa);
    s_snapshot_free(&fb);
    free(la.points);
    free(lb.points);
    cairn_run_info_destroy(&ia, ia ? 1 : 0);
    cairn_run_info_destroy(&ib, ib ? 1 : 0);
    return rc;
}

int
cli_cmd_diff(int argc, char **argv)
{
    const char *db = CLI_DEFAULT_DB;
    bool json = false;
    const char *runs[2] = {NULL, NULL};
    const cli_option_t options[] = {
        CLI_OPTION_DB(&db),
        {"json", CLI_OPT_FLAG, &json, NULL,
         "print JSON on stdout instead of text"},
    };
    int exit_code = cli_parse(argc, argv, options, 2, 2, runs);
    cairn_store_t *store = NULL;
    if (exit_code == CLI_EXIT_OK)
        exit_code = cli_open_inspect(db, &store);
    json_t *doc = NULL;
    cairn_error_t err;
    if (exit_code == CLI_EXIT_OK
        && s_compare(store, runs[0], runs[1], &doc, &err) != CAIRN_OK)
        exit_code = cli_fail(&err);
    if (exit_code == CLI_EXIT_OK) {
        if (json)
            cli_print_json(doc);
        else
            s_print_text(doc);
        fflush(stdout);
        exit_code = json_is_true(json_object_get(doc, "identical"))
                        ? CLI_EXIT_OK
                        : CLI_EXIT_FAILED;
    }
    json_decref(doc);
    cairn_store_destroy(&store);
    return exit_code;
}
