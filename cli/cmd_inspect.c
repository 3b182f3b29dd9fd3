/* cmd_inspect.c - `cairn runs`, `cairn checkpoints`, `cairn show`.
 *
 * Inspection opens the store read-only (a RocksDB secondary), so it works
 * while a run is live in another process. Tables for people by default,
 * --json for scripts.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

/* What the inspection commands accept. */
typedef struct {
    const char *db;
    bool json;
    uint64_t limit;
    const char *tag;
    bool tree;
} s_options_t;

/* Parses --db and --json, plus --limit and --tag with filters. */
static int
s_parse(int argc, char **argv, bool filters, int want, s_options_t *o,
        const char **positional)
{
    memset(o, 0, sizeof *o);
    o->db = CLI_DEFAULT_DB;
    const cli_option_t options[] = {
        CLI_OPTION_DB(&o->db),
        {"json", CLI_OPT_FLAG, &o->json, NULL,
         "print JSON on stdout instead of text"},
        {"limit", CLI_OPT_NUMBER, &o->limit, "N", "list at most N checkpoints"},
        {"tag", CLI_OPT_TEXT, &o->tag, "T", "list only checkpoints tagged T"},
        {"tree", CLI_OPT_FLAG, &o->tree, NULL,
         "show the run's lineage with every fork as a tree"},
    };
    return cli_parse(argc, argv, options, filters ? 5 : 2, want, positional);
}

static void
s_time_text(uint64_t ms, char *out, size_t size)
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm utc;
    gmtime_r(&seconds, &utc);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &utc);
}

/* "interrupted" for a running run whose process is gone. */
static const char *
s_status(const cairn_run_info_t *run)
{
    if (strcmp(run->status, "running") == 0 && !cairn_run_process_alive(run))
        return "interrupted";
    return run->status;
}

int
cli_cmd_runs(int argc, char **argv)
{
    s_options_t o;
    int exit_code = s_parse(argc, argv, false, 0, &o, NULL);
    cairn_store_t *store = NULL;
    if (exit_code == CLI_EXIT_OK)
        exit_code = cli_open_inspect(o.db, &store);
    cairn_run_info_t *runs = NULL;
    size_t count = 0;
    cairn_error_t err;
    if (exit_code == CLI_EXIT_OK
        && cairn_store_list_runs(store, &runs, &count, &err) != CAIRN_OK)
        exit_code = cli_fail(&err);
    /* Live runs say which superstep they are in; the others what the
     * store last recorded. */
    for (size_t i = 0; exit_code == CLI_EXIT_OK && i < count; i++) {
        const char *live = NULL;
        uint64_t superstep;
        if (cli_live_superstep(&runs[i], &superstep, &live))
            runs[i].superstep = superstep;
    }
    if (exit_code == CLI_EXIT_OK && o.json) {
        json_t *list = json_array();
        for (size_t i = 0; i < count; i++) {
            const cairn_run_info_t *r = &runs[i];
            json_array_append_new(
                list,
                json_pack("{s:s, s:o, s:s, s:I, s:s, s:s, s:I, s:I, s:I}",
                          "id", r->id, "workflow", cli_text_json(r->workflow),
                          "status",
                          s_status(r), "superstep", (json_int_t)r->superstep,
                          "latest_checkpoint", r->latest_checkpoint,
                          "parent", r->parent, "created",
                          (json_int_t)r->created_ms, "updated",
                          (json_int_t)r->updated_ms, "pid",
                          (json_int_t)r->pid));
        }
        cli_print_json(list);
        json_decref(list);
    } else if (exit_code == CLI_EXIT_OK) {
        printf("%-32s %-12s %9s  %-40s %s\n", "RUN", "STATUS", "SUPERSTEP",
               "LATEST CHECKPOINT", "WORKFLOW");
        for (size_t i = 0; i < count; i++)
            printf("%-32s %-12s %9llu  %-40s %s\n", runs[i].id,
                   s_status(&runs[i]), (unsigned long long)runs[i].superstep,
                   runs[i].latest_checkpoint, runs[i].workflow);
    }
    cairn_run_info_destroy(&runs, count);
    cairn_store_destroy(&store);
    return exit_code;
}

static json_t *
s_checkpoint_json(const cairn_checkpoint_info_t *c)
{
    json_t *tags = json_array();
    for (size_t i = 0; i < c->tag_count; i++)
        json_array_append_new(tags, cli_text_json(c->tags[i]));
    return json_pack("{s:s, s:s, s:I, s:s, s:I, s:s, s:s, s:I, s:o}", "id",
                     c->id, "run_id", c->run_id, "superstep",
                     (json_int_t)c->superstep, "parent", c->parent,
                     "timestamp", (json_int_t)c->timestamp_ms, "trigger",
                     c->trigger, "status", c->status, "size_bytes",
                     (json_int_t)c->size_bytes, "tags", tags);
}

int
cli_cmd_checkpoints(int argc, char **argv)
{
    s_options_t o;
    const char *run_id = NULL;
    int exit_code = s_parse(argc, argv, true, 1, &o, &run_id);
    cairn_store_t *store = NULL;
    if (exit_code == CLI_EXIT_OK)
        exit_code = cli_open_inspect(o.db, &store);
    if (exit_code == CLI_EXIT_OK && o.tree && (o.limit || o.tag)) {
        cli_error("checkpoints: --tree shows every checkpoint; give it "
                  "without --limit and --tag");
        exit_code = CLI_EXIT_USAGE;
    }
    if (exit_code == CLI_EXIT_OK && o.tree) {
        exit_code = cli_checkpoints_tree(store, run_id, o.json);
        cairn_store_destroy(&store);
        return exit_code;
    }
    cairn_checkpoint_info_t *infos = NULL;
    size_t count = 0;
    cairn_error_t err;
    if (exit_code == CLI_EXIT_OK
        && cairn_store_list_checkpoints(store, run_id, (size_t)o.limit, o.tag,
                                        &infos, &count, &err)
               != CAIRN_OK)
        exit_code = cli_fail(&err);
    if (exit_code == CLI_EXIT_OK && o.json) {
        json_t *list = json_array();
        for (size_t i = 0; i < count; i++)
            json_array_append_new(list, s_checkpoint_json(&infos[i]));
        cli_print_json(list);
        json_decref(list);
    } else if (exit_code == CLI_EXIT_OK) {
        printf("%-40s %-20s %-15s %-10s %8s  %s\n", "CHECKPOINT", "TIME",
               "TRIGGER", "STATUS", "BYTES", "PARENT");
        for (size_t i = 0; i < count; i++) {
            char when[32];
            s_time_text(infos[i].timestamp_ms, when, sizeof when);
            printf("%-40s %-20s %-15s %-10s %8llu  %s\n", infos[i].id, when,
                   infos[i].trigger, infos[i].status,
                   (unsigned long long)infos[i].size_bytes,
                   infos[i].parent[0] ? infos[i].parent : "-");
        }
    }
    cairn_checkpoint_info_destroy(&infos, count);
    cairn_store_destroy(&store);
    return exit_code;
}

/* ---- show ----------------------------------------------------------------- */

typedef struct {
    bool json;
    json_t *executors;   /* {executor: {key: value}} */
    json_t *shared;      /* {key: value} */
    json_t *binary_keys; /* [{executor, key, value}]: keys not UTF-8 */
} s_state_dump_t;

static void
s_dump_state(const char *executor, const char *key, const uint8_t *value,
             size_t len, void *userdata)
{
    s_state_dump_t *dump = userdata;
    if (!dump->json) {
        printf("  %-20s %-24s %.*s\n", executor ? executor : "(shared)", key,
               (int)(len > 200 ? 200 : len), (const char *)value);
        return;
    }
    cli_state_json_add(dump->executors, dump->shared, dump->binary_keys,
                       executor, key, value, len);
}

/* [{executor, superstep, error, payload}] of cp's dead letters. */
static json_t *
s_dead_letters_json(const cairn_checkpoint_t *cp)
{
    json_t *list = json_array();
    cairn_dead_letter_t letter;
    for (size_t i = 0; i < cairn_checkpoint_dead_letter_count(cp); i++)
        if (cairn_checkpoint_dead_letter(cp, i, &letter) == CAIRN_OK)
            json_array_append_new(
                list, json_pack("{s:o, s:I, s:o, s:o}", "executor",
                                cli_text_json(letter.executor), "superstep",
                                (json_int_t)letter.superstep, "error",
                                cli_text_json(letter.error), "payload",
                                cli_payload_json(letter.payload,
                                                 letter.payload_len)));
    return list;
}

/* [{id, executor, kind, payload}] of the requests pending at cp. */
static json_t *
s_requests_json(const cairn_checkpoint_t *cp)
{
    json_t *list = json_array();
    cairn_request_t request;
    for (size_t i = 0; i < cairn_checkpoint_request_count(cp); i++)
        if (cairn_checkpoint_request(cp, i, &request) == CAIRN_OK)
            json_array_append_new(list, cli_request_json(&request));
    return list;
}

int
cli_cmd_show(int argc, char **argv)
{
    s_options_t o;
    const char *id = NULL;
    int exit_code = s_parse(argc, argv, false, 1, &o, &id);
    cairn_store_t *store = NULL;
    if (exit_code == CLI_EXIT_OK)
        exit_code = cli_open_inspect(o.db, &store);
    cairn_checkpoint_t *cp = NULL;
    cairn_error_t err;
    if (exit_code == CLI_EXIT_OK
        && cairn_store_get_checkpoint(store, id, &cp, &err) != CAIRN_OK)
        exit_code = cli_fail(&err);
    if (exit_code != CLI_EXIT_OK) {
        cairn_store_destroy(&store);
        return exit_code;
    }
    const cairn_checkpoint_info_t *info = cairn_checkpoint_info(cp);
    s_state_dump_t dump = {.json = o.json};
    if (o.json) {
        dump.executors = json_object();
        dump.shared = json_object();
        dump.binary_keys = json_array();
        cairn_checkpoint_foreach_state(cp, s_dump_state, &dump);
        json_t *outputs = json_array();
        for (size_t i = 0; i < cairn_checkpoint_output_count(cp); i++) {
            size_t len;
            const uint8_t *data = cairn_checkpoint_output(cp, i, &len);
            json_array_append_new(outputs, cli_payload_json(data, len));
        }
        json_t *doc = s_checkpoint_json(info);
        json_object_set_new(doc, "workflow", cli_text_json(info->workflow));
        json_object_set_new(doc, "pending_messages",
                            json_integer((json_int_t)info->pending_messages));
        json_object_set_new(doc, "state", dump.executors);
        json_object_set_new(doc, "shared", dump.shared);
        json_object_set_new(doc, "binary_keys", dump.binary_keys);
        json_object_set_new(doc, "outputs", outputs);
        json_object_set_new(doc, "requests", s_requests_json(cp));
        json_object_set_new(doc, "dead_letters", s_dead_letters_json(cp));
        cli_print_json(doc);
        json_decref(doc);
    } else {
        char when[32];
        s_time_text(info->timestamp_ms, when, sizeof when);
        printf("checkpoint %s\n  workflow %s, superstep %llu, %s (%s), %s\n"
               "  parent %s, %llu bytes, %llu message(s) in flight\n",
               info->id, info->workflow, (unsigned long long)info->superstep,
               info->status, info->trigger, when,
               info->parent[0] ? info->parent : "-",
               (unsigned long long)info->size_bytes,
               (unsigned long long)info->pending_messages);
        printf("state:\n");
        cairn_checkpoint_foreach_state(cp, s_dump_state, &dump);
        printf("outputs so far: %zu\n", cairn_checkpoint_output_count(cp));
        for (size_t i = 0; i < cairn_checkpoint_output_count(cp); i++) {
            size_t len;
            const uint8_t *data = cairn_checkpoint_output(cp, i, &len);
            printf("  %.*s\n", (int)(len > 200 ? 200 : len),
                   (const char *)data);
        }
        printf("pending requests: %zu\n", cairn_checkpoint_request_count(cp));
        cairn_request_t request;
        for (size_t i = 0; i < cairn_checkpoint_request_count(cp); i++)
            if (cairn_checkpoint_request(cp, i, &request) == CAIRN_OK)
                printf("  %s from %s (%s): %.*s\n", request.id,
                       request.executor, request.kind,
                       (int)(request.payload_len > 200 ? 200
                                                       : request.payload_len),
                       (const char *)request.payload);
        printf("dead letters: %zu\n", cairn_checkpoint_dead_letter_count(cp));
        cairn_dead_letter_t letter;
        for (size_t i = 0; i < cairn_checkpoint_dead_letter_count(cp); i++)
            if (cairn_checkpoint_dead_letter(cp, i, &letter) == CAIRN_OK)
                printf("  %s@%llu: %.*s (%s)\n", letter.executor,
                       (unsigned long long)letter.superstep,
                       (int)(letter.payload_len > 200 ? 200
                                                      : letter.payload_len),
                       (const char *)letter.payload, letter.error);
    }
    cairn_checkpoint_destroy(&cp);
    cairn_store_destroy(&store);
    return CLI_EXIT_OK;
}
