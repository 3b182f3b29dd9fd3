/* cmd_events.c - `cairn events RUN [--json] [--follow]`, and the JSON
 * form of an event that `cairn run --events` prints too.
 *
 * Replay reads the events a store kept for a run (read-only, beside a
 * live writer). --follow then subscribes to the run's events endpoint
 * (from its run record) and prints live events until run_ended, or until
 * the run is no longer live. Seqs make it exact: an event already
 * printed is skipped, and a gap (a subscriber that fell behind, events
 * published before the subscription took) is filled from the store,
 * which by then holds them, or reported on stderr when it cannot be.
 * Without an endpoint (a run started from the C API without one) follow
 * polls the store, which gets events at each checkpoint.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

#define S_POLL_MS 200   /* between looks at the store while following */
#define S_GRACE_MS 3000 /* for run_ended once the record says it ended */

json_t *
cli_event_json(const cairn_event_t *event)
{
    json_t *line =
        json_pack("{s:s, s:s, s:I, s:I, s:I}", "event",
                  cairn_event_kind_name(event->kind), "run_id", event->run_id,
                  "superstep", (json_int_t)event->superstep, "seq",
                  (json_int_t)event->seq, "time", (json_int_t)event->time_ms);
    if (!line)
        return NULL;
    if (event->executor)
        json_object_set_new(line, "executor", json_string(event->executor));
    if (event->detail)
        json_object_set_new(line, "detail", cli_text_json(event->detail));
    if (event->count)
        json_object_set_new(line, "count",
                            json_integer((json_int_t)event->count));
    if (event->kind == CAIRN_EVENT_OUTPUT)
        json_object_set_new(
            line, "data",
            cli_payload_json(event->data ? event->data : (const uint8_t *)"",
                             event->data_len));
    if (event->kind == CAIRN_EVENT_RUN_ENDED)
        json_object_set_new(line, "status",
                            json_string(cairn_status_name(event->status)));
    return line;
}

void
cli_print_event_json(FILE *out, const cairn_event_t *event)
{
    json_t *line = cli_event_json(event);
    char *text =
        line ? json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    if (text) {
        fprintf(out, "%s\n", text);
        free(text);
    }
    json_decref(line);
    fflush(out);
}

/* ---- printing
 * ----------------------------------------------------------------- */

typedef struct {
    bool json;
    uint64_t last; /* seq of the last event printed */
    bool ended;    /* run_ended printed */
} s_printer_t;

/* One line for people: seq, time, superstep, kind, then what it is
 * about. */
static void
s_print_text(const cairn_event_t *event)
{
    char *line = NULL;
    size_t line_len = 0;
    FILE *out = open_memstream(&line, &line_len);
    if (!out)
        return;
    time_t seconds = (time_t)(event->time_ms / 1000);
    struct tm utc;
    gmtime_r(&seconds, &utc);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%H:%M:%S", &utc);
    fprintf(out, "%6" PRIu64 "  %s.%03u  %5" PRIu64 "  %-19s", event->seq,
            stamp, (unsigned)(event->time_ms % 1000), event->superstep,
            cairn_event_kind_name(event->kind));
    if (event->executor)
        fprintf(out, "  %s", event->executor);
    if (event->kind == CAIRN_EVENT_RUN_ENDED)
        fprintf(out, "  %s", cairn_status_name(event->status));
    if (event->count)
        fprintf(out, "  count=%" PRIu64, event->count);
    if (event->detail)
        fprintf(out, "  %s", event->detail);
    if (event->kind == CAIRN_EVENT_OUTPUT) {
        json_t *data = cli_payload_json(
            event->data ? event->data : (const uint8_t *)"", event->data_len);
        char *text =
            data ? json_dumps(data, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
        fprintf(out, "  %s", text ? text : "?");
        free(text);
        json_decref(data);
    }
    fclose(out);
    /* The kind is padded into a column; nothing trails a line. */
    while (line_len > 0 && line[line_len - 1] == ' ')
        line[--line_len] = '\0';
    puts(line);
    free(line);
}

static void
s_print(const cairn_event_t *event, void *userdata)
{
    s_printer_t *p = userdata;
    if (event->seq <= p->last)
        return; /* already printed */
    if (p->json)
        cli_print_event_json(stdout, event);
    else
        s_print_text(event);
    fflush(stdout);
    p->last = event->seq;
    p->ended = p->ended || event->kind == CAIRN_EVENT_RUN_ENDED;
}

/* Prints the stored events after the last printed one. */
static int
s_print_stored(cairn_store_t *store, const char *run_id, s_printer_t *p)
{
    cairn_error_t err;
    if (cairn_store_foreach_event(store, run_id, p->last, s_print, p, &err)
        != CAIRN_OK)
        return cli_fail(&err);
    return CLI_EXIT_OK;
}

/* ---- following
 * ----------------------------------------------------------------- */

typedef struct {
    cairn_store_t *store;
    const char *run_id;
    s_printer_t *printer;
    int exit_code;
} s_follow_t;

/* A live event: print it, after filling any gap before it from the
 * store. */
static void
s_on_live(const cairn_event_t *event, void *userdata)
{
    s_follow_t *f = userdata;
    s_printer_t *p = f->printer;
    if (event->seq > p->last + 1) {
        cairn_error_t err;
        if (cairn_store_refresh(f->store, &err) == CAIRN_OK
            && cairn_store_foreach_event(f->store, f->run_id, p->last, s_print,
                                         p, &err)
                   != CAIRN_OK)
            f->exit_code = cli_fail(&err);
        if (event->seq > p->last + 1)
            cli_error("events %" PRIu64 " to %" PRIu64 " of run %s were "
                      "missed (not stored, and not received in time)",
                      p->last + 1, event->seq - 1, f->run_id);
    }
    s_print(event, p);
}

/* Whether the run still has a live process that may publish. *ended is
 * set when its record no longer says running. */
static bool
s_still_live(cairn_store_t *store, const char *run_id, bool *ended)
{
    cairn_run_info_t *info = NULL;
    cairn_error_t err;
    if (cairn_store_refresh(store, &err) != CAIRN_OK
        || cairn_store_get_run(store, run_id, &info, &err) != CAIRN_OK)
        return false;
    *ended = strcmp(info->status, "running") != 0;
    bool alive = cairn_run_process_alive(info);
    cairn_run_info_destroy(&info, 1);
    return alive;
}

static uint64_t
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Prints live events until run_ended, or until the run is over and has
 * had S_GRACE_MS to say so, or its process is gone. */
static int
s_follow(cairn_store_t *store, const char *run_id, cairn_event_sub_t *sub,
         s_printer_t *p)
{
    s_follow_t f = {store, run_id, p, CLI_EXIT_OK};
    uint64_t give_up = 0; /* once the run is over: when to stop waiting */
    while (!p->ended && f.exit_code == CLI_EXIT_OK) {
        cairn_error_t err;
        int got =
            sub ? cairn_event_sub_next(sub, S_POLL_MS, s_on_live, &f, &err)
                : (usleep(S_POLL_MS * 1000), 0);
        if (got < 0)
            return cli_fail(&err);
        if (got > 0)
            continue;
        bool ended = false;
        bool alive = s_still_live(store, run_id, &ended);
        int rc = s_print_stored(store, run_id, p);
        if (rc != CLI_EXIT_OK)
            return rc;
        if (p->ended)
            break;
        if (!alive) {
            cli_error("run %s is no longer live (its process is gone); "
                      "the events above are all there are",
                      run_id);
            break;
        }
        if (ended && !give_up)
            give_up = s_now_ms() + S_GRACE_MS;
        if (give_up && s_now_ms() >= give_up) {
            cli_error("run %s has ended; no run_ended event came", run_id);
            break;
        }
    }
    return f.exit_code;
}

int
cli_cmd_events(int argc, char **argv)
{
    const char *db = CLI_DEFAULT_DB;
    bool json = false, follow = false;
    const cli_option_t options[] = {
        CLI_OPTION_DB(&db),
        {"json", CLI_OPT_FLAG, &json, NULL,
         "print JSON on stdout instead of text"},
        {"follow", CLI_OPT_FLAG, &follow, NULL,
         "keep printing the live run's events until it ends"},
    };
    const char *run_id = NULL;
    int exit_code = cli_parse(argc, argv, options,
                              sizeof options / sizeof options[0], 1, &run_id);
    cairn_store_t *store = NULL;
    cairn_run_info_t *info = NULL;
    cairn_event_sub_t *sub = NULL;
    cairn_error_t err;
    if (exit_code == CLI_EXIT_OK)
        exit_code = cli_open_run(db, run_id, &store, &info);
    bool live = exit_code == CLI_EXIT_OK && follow
                && strcmp(info->status, "running") == 0
                && cairn_run_process_alive(info);
    /* Subscribe first: what is published meanwhile is not lost. */
    if (live && info->events_endpoint[0]
        && cairn_event_sub_open(&sub, info->events_endpoint, run_id, &err)
               != CAIRN_OK)
        exit_code = cli_fail(&err);
    s_printer_t printer = {.json = json};
    if (exit_code == CLI_EXIT_OK)
        exit_code = s_print_stored(store, run_id, &printer);
    if (exit_code == CLI_EXIT_OK && live && !printer.ended)
        exit_code = s_follow(store, run_id, sub, &printer);
    cairn_event_sub_destroy(&sub);
    cairn_run_info_destroy(&info, info ? 1 : 0);
    cairn_store_destroy(&store);
    return exit_code;
}
