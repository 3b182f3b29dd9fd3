/* cmd_tree.c - `cairn checkpoints RUN --tree`: a run's lineage with its
 * forks, as a tree.
 *
 * The tree starts at RUN's oldest ancestor (following each run record's
 * parent checkpoint up). Each ancestor shows its checkpoints up to the
 * fork point its descendant on the way to RUN was forked from, and only
 * that descendant under it; RUN and every run forked from RUN or from any
 * of its descendants show all their checkpoints, each fork nested under
 * the checkpoint it was forked from. A fork whose fork point is no longer
 * stored (retention) is placed where that superstep would be.
 *
 * The tree is built once as JSON (--json prints it) and the table is
 * printed from it. Read-only.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define S_MAX_DEPTH 256

/* Every run of the store, for finding forks, and the way from RUN up to
 * its oldest ancestor. */
typedef struct {
    cairn_run_info_t *runs;
    size_t count;
    const char *target;                        /* RUN */
    const cairn_run_info_t *path[S_MAX_DEPTH]; /* [0] RUN, [n-1] the root */
    uint64_t fork_points[S_MAX_DEPTH];         /* path[k] is shown up to this */
    size_t path_len;
} s_runs_t;

#define S_NOT_ON_PATH ((size_t)-1)

/* Splits "RUN@N"; false when malformed. */
static bool
s_split_checkpoint(const char *id, char *run, size_t size, uint64_t *step)
{
    const char *at = strrchr(id, '@');
    if (!at || (size_t)(at - id) >= size || at == id)
        return false;
    memcpy(run, id, (size_t)(at - id));
    run[at - id] = '\0';
    return cli_parse_u64(at + 1, step);
}

static const cairn_run_info_t *
s_find_run(const s_runs_t *all, const char *id)
{
    for (size_t i = 0; i < all->count; i++)
        if (strcmp(all->runs[i].id, id) == 0)
            return &all->runs[i];
    return NULL;
}

static json_t *s_run_node(cairn_store_t *store, const s_runs_t *all,
                          const cairn_run_info_t *run, size_t level,
                          size_t depth, cairn_error_t *err);

/* Nests child runs (forked from run at a superstep) into the node:
 * under the checkpoint they were forked from, else (fork point gone)
 * under the newest checkpoint before it, else in the run's "forks". An
 * ancestor of RUN (level > 0 on the path) gets only the next run on the
 * path. */
static int
s_attach_forks(cairn_store_t *store, const s_runs_t *all,
               const cairn_run_info_t *run, size_t level, json_t *node,
               size_t depth, cairn_error_t *err)
{
    bool ancestor = level != S_NOT_ON_PATH && level > 0;
    const char *only_child = ancestor ? all->path[level - 1]->id : NULL;
    size_t child_level = ancestor ? level - 1 : S_NOT_ON_PATH;
    json_t *checkpoints = json_object_get(node, "checkpoints");
    for (size_t i = 0; i < all->count; i++) {
        const cairn_run_info_t *child = &all->runs[i];
        char parent_run[CAIRN_CHECKPOINT_ID_MAX];
        uint64_t step;
        if (!*child->parent
            || !s_split_checkpoint(child->parent, parent_run, sizeof parent_run,
                                   &step)
            || strcmp(parent_run, run->id) != 0
            || (only_child && strcmp(child->id, only_child) != 0))
            continue;
        json_t *sub =
            s_run_node(store, all, child, child_level, depth + 1, err);
        if (!sub)
            return err->code;
        json_t *home = json_object_get(node, "forks");
        size_t k;
        json_t *cp;
        json_array_foreach(checkpoints, k, cp)
        {
            uint64_t s =
                (uint64_t)json_integer_value(json_object_get(cp, "superstep"));
            if (s <= step)
                home = json_object_get(cp, "forks");
        }
        json_array_append_new(home, sub);
    }
    return CAIRN_OK;
}

/* The node of one run (level: its place on the path, or S_NOT_ON_PATH):
 * its checkpoints oldest first (an ancestor's up to its fork point) with
 * its forks. NULL after setting err. */
static json_t *
s_run_node(cairn_store_t *store, const s_runs_t *all,
           const cairn_run_info_t *run, size_t level, size_t depth,
           cairn_error_t *err)
{
    uint64_t upto =
        level != S_NOT_ON_PATH ? all->fork_points[level] : UINT64_MAX;
    if (depth > S_MAX_DEPTH) {
        cairn_error_set(err, CAIRN_ECORRUPT,
                        "forks of run '%s' nest too deep or in a cycle",
                        run->id);
        return NULL;
    }
    cairn_checkpoint_info_t *infos = NULL;
    size_t count = 0;
    if (cairn_store_list_checkpoints(store, run->id, 0, NULL, &infos, &count,
                                     err)
        != CAIRN_OK)
        return NULL;
    json_t *checkpoints = json_array();
    for (size_t i = count; i > 0; i--) {
        const cairn_checkpoint_info_t *c = &infos[i - 1];
        if (c->superstep > upto)
            continue;
        json_array_append_new(
            checkpoints,
            json_pack("{s:s, s:I, s:s, s:s, s:s, s:I, s:[]}", "id", c->id,
                      "superstep", (json_int_t)c->superstep, "trigger",
                      c->trigger, "status", c->status, "parent", c->parent,
                      "size_bytes", (json_int_t)c->size_bytes, "forks"));
    }
    cairn_checkpoint_info_destroy(&infos, count);
    json_t *node = json_pack(
        "{s:s, s:s, s:s, s:s, s:b, s:o, s:[]}", "run", run->id, "workflow",
        run->workflow, "status", run->status, "parent", run->parent, "this",
        strcmp(run->id, all->target) == 0, "checkpoints", checkpoints, "forks");
    if (!node) {
        cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
        return NULL;
    }
    if (s_attach_forks(store, all, run, level, node, depth, err) != CAIRN_OK) {
        json_decref(node);
        return NULL;
    }
    return node;
}

/* The tree of run_id, from its oldest ancestor. */
static int
s_tree(cairn_store_t *store, const char *run_id, json_t **out,
       cairn_error_t *err)
{
    *out = NULL;
    s_runs_t *all = calloc(1, sizeof *all);
    if (!all)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    all->target = run_id;
    int rc = cairn_store_list_runs(store, &all->runs, &all->count, err);
    const cairn_run_info_t *run =
        rc == CAIRN_OK ? s_find_run(all, run_id) : NULL;
    if (rc == CAIRN_OK && !run)
        rc = cairn_error_set(err, CAIRN_ENOTFOUND, "unknown run '%s'", run_id);
    /* Up to the oldest ancestor, remembering the path. */
    uint64_t upto = UINT64_MAX;
    while (rc == CAIRN_OK) {
        all->path[all->path_len] = run;
        all->fork_points[all->path_len++] = upto;
        if (!*run->parent)
            break;
        char parent_run[CAIRN_CHECKPOINT_ID_MAX];
        if (all->path_len == S_MAX_DEPTH
            || !s_split_checkpoint(run->parent, parent_run, sizeof parent_run,
                                   &upto)) {
            rc = cairn_error_set(err, CAIRN_ECORRUPT,
                                 "run '%s' has a malformed parent '%s' or "
                                 "too many ancestors",
                                 run->id, run->parent);
            break;
        }
        const cairn_run_info_t *child = run;
        run = s_find_run(all, parent_run);
        if (!run)
            rc = cairn_error_set(err, CAIRN_ECORRUPT,
                                 "run '%s' was forked from run '%s', which "
                                 "the store does not have",
                                 child->id, parent_run);
    }
    if (rc == CAIRN_OK) {
        size_t top = all->path_len - 1;
        *out = s_run_node(store, all, all->path[top], top, 0, err);
        if (!*out)
            rc = err->code ? err->code : CAIRN_ENOMEM;
    }
    cairn_run_info_destroy(&all->runs, all->count);
    free(all);
    return rc;
}

/* ---- printing
 * ---------------------------------------------------------------- */

static void s_print_run(json_t *node, int indent);

static void
s_print_forks(json_t *forks, int indent)
{
    size_t i;
    json_t *sub;
    json_array_foreach(forks, i, sub) s_print_run(sub, indent);
}

static void
s_print_run(json_t *node, int indent)
{
    const char *parent = json_string_value(json_object_get(node, "parent"));
    printf("%*srun %s  %s%s%s%s\n", indent, "",
           json_string_value(json_object_get(node, "run")),
           json_string_value(json_object_get(node, "status")),
           *parent ? "  forked from " : "", parent,
           json_is_true(json_object_get(node, "this")) ? "  <- this run" : "");
    size_t i;
    json_t *cp;
    json_array_foreach(json_object_get(node, "checkpoints"), i, cp)
    {
        printf(
            "%*s%-40s %-15s %-10s %8lld\n", indent + 2, "",
            json_string_value(json_object_get(cp, "id")),
            json_string_value(json_object_get(cp, "trigger")),
            json_string_value(json_object_get(cp, "status")),
            (long long)json_integer_value(json_object_get(cp, "size_bytes")));
        s_print_forks(json_object_get(cp, "forks"), indent + 4);
    }
    s_print_forks(json_object_get(node, "forks"), indent + 4);
}

int
cli_checkpoints_tree(cairn_store_t *store, const char *run_id, bool json)
{
    json_t *tree = NULL;
    cairn_error_t err;
    cairn_error_clear(&err);
    if (s_tree(store, run_id, &tree, &err) != CAIRN_OK)
        return cli_fail(&err);
    if (json)
        cli_print_json(tree);
    else
        s_print_run(tree, 0);
    fflush(stdout);
    json_decref(tree);
    return CLI_EXIT_OK;
}
