/* spec.c - the JSON workflow spec loader (include/cairn/spec.h).
 *
 * cairn_spec_load() turns a spec document (docs/spec.md) into builder
 * calls and builds the workflow. The work is split in two:
 *
 *   - this file checks the document's shape: JSON syntax (line, column),
 *     value types, required and unknown keys, the four edge forms, switch
 *     defaults, predicates, max_supersteps, the checkpoint policy. Each
 *     problem is reported with its JSON path ("edges[0].switch[1].when").
 *   - cairn_builder_build() checks the graph: id syntax, duplicate ids,
 *     unknown types and executors, predicate arguments, configs. It
 *     reports the problem as (subject, index, field, item) beside its
 *     message; s_build_failed() turns that into the JSON path it came
 *     from, so that every error reads "FILE: PATH: MESSAGE" (or "FILE:
 *     line L, column C: MESSAGE"). The message is never parsed.
 *
 * Invariant: the builder receives one executor per element of
 * "executors" and one edge per element of "edges", in document order, so
 * the builder's executor i is executors[i] and its edge e is edges[e]
 * (one target per to[j] or switch[j], one source per from[j]). Configs and
 * predicates are handed on as compact JSON text (configs with sorted
 * keys, so that key order does not change the workflow signature);
 * ${VAR} references are left as written and resolved by executor types
 * when they start, so secrets never reach the store or the signature.
 *
 * Nothing here prints or logs: the CLI prints err.message. No shared
 * state: safe to call from any thread with distinct arguments (the
 * registry is only read).
 */
#include "cairn/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cairn/registry.h"
#include "base/util.h"

/* Longest JSON path we build: fixed key names plus at most three indices,
 * so this is never reached (snprintf truncates if it were). */
#define S_PATH_MAX 128

/* A spec file larger than this is surely a mistake (or /dev/zero). */
#define S_MAX_SPEC_SIZE ((size_t)64 * 1024 * 1024)

/* What cairn_spec_load() carries through the document. */
typedef struct {
    const char *what;                 /* file name, first in every message */
    const cairn_registry_t *registry; /* borrowed: types and predicates */
    cairn_builder_t *builder;         /* filled as the document is read */
    cairn_error_t *err;               /* the first problem (may be NULL) */
} s_loader_t;

/* A predicate read from a "when": what cairn_predicate_from_json() made. */
typedef struct {
    char *name;   /* malloc'd; NULL when there is none */
    uint8_t *arg; /* malloc'd; may be NULL */
    size_t arg_len;
} s_pred_t;

static const char *const s_top_keys[] = {
    "name",  "start",      "max_supersteps", "executors",  "edges",
    "checkpoint", "retry", "timeout_ms",     "on_failure", NULL};
/* "label": the executor runs only on a worker that announced it. */
static const char *const s_executor_keys[] = {
    "id",    "type",       "config",     "accepts",
    "label", "retry",      "timeout_ms", "on_failure", NULL};
static const char *const s_retry_keys[] = {"max_attempts", "backoff_ms",
                                           "max_backoff_ms", "on", NULL};
static const char *const s_edge_keys[] = {"from",   "to",     "when",
                                          "switch", "fan_in", NULL};
static const char *const s_case_keys[] = {"when", "to", "default", NULL};

static const char s_checkpoint_expected[] =
    "expected one of: every, every:N (N >= 1), on-error, manual, none";

static int s_fail(const s_loader_t *self, const char *path, const char *fmt,
                  ...) CAIRN_PRINTF(3, 4);

/* Reports a problem at path: "FILE: PATH: MESSAGE", CAIRN_EVALIDATION. */
static int
s_fail(const s_loader_t *self, const char *path, const char *fmt, ...)
{
    char text[sizeof self->err->message];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    return cairn_error_set(self->err, CAIRN_EVALIDATION, "%s: %s: %s",
                           self->what, path, text);
}

/* A builder call failed: it only does so for out-of-memory (its
 * arguments are never NULL here), which is not the document's fault. */
static int
s_builder_failed(const s_loader_t *self, int rc)
{
    return cairn_error_set(self->err, rc, "%s: %s", self->what,
                           cairn_strerror(rc));
}

/* What a JSON value is, for "found ..." in messages. */
static const char *
s_kind(const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return json_array_size(value) ? "an array" : "an empty array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}

static const char *s_path(char *buf, const char *fmt, ...) CAIRN_PRINTF(2, 3);

/* Formats a JSON path into buf (S_PATH_MAX bytes). Paths are made of
 * fixed key names and indices, so they always fit; were one not to, it
 * would be cut short, never overflow. */
static const char *
s_path(char *buf, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(buf, S_PATH_MAX, fmt, args);
    va_end(args);
    return buf;
}

/* buf = parent.key, or key when parent is the top level "$". */
static const char *
s_path_key(char *buf, const char *parent, const char *key)
{
    if (strcmp(parent, "$") == 0)
        return s_path(buf, "%s", key);
    return s_path(buf, "%s.%s", parent, key);
}

/* buf = parent[index]. */
static const char *
s_path_index(char *buf, const char *parent, size_t index)
{
    return s_path(buf, "%s[%zu]", parent, index);
}

/* Fails on the first key of obj (in document order) not in allowed. */
static int
s_check_keys(const s_loader_t *self, json_t *obj, const char *path,
             const char *const *allowed)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        size_t i = 0;
        while (allowed[i] && strcmp(key, allowed[i]) != 0)
            i++;
        if (allowed[i])
            continue;
        char list[S_PATH_MAX] = "";
        size_t used = 0;
        for (i = 0; allowed[i] && used < sizeof list; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                     i ? ", " : "", allowed[i]);
        return s_fail(self, path, "unknown key '%s' (expected one of: %s)", key,
                      list);
    }
    return CAIRN_OK;
}

/* Reads obj.key as a string: *out is borrowed from obj, NULL when the key
 * is absent and not required. */
static int
s_string(const s_loader_t *self, json_t *obj, const char *path, const char *key,
         bool required, const char **out)
{
    json_t *value = json_object_get(obj, key);
    char at[S_PATH_MAX];
    *out = NULL;
    if (!value)
        return required ? s_fail(self, path, "missing required key '%s'", key)
                        : CAIRN_OK;
    if (!json_is_string(value))
        return s_fail(self, s_path_key(at, path, key),
                      "expected a string, found %s", s_kind(value));
    *out = json_string_value(value);
    return CAIRN_OK;
}

/* Reads a non-empty array of strings into a malloc'd array of borrowed
 * pointers (*n elements); what names the strings in messages. */
static int
s_string_array(const s_loader_t *self, json_t *array, const char *path,
               const char *what, const char ***out, size_t *n)
{
    char at[S_PATH_MAX];
    *out = NULL;
    *n = 0;
    if (!json_is_array(array) || json_array_size(array) == 0)
        return s_fail(self, path, "expected a non-empty array of %s, found %s",
                      what, s_kind(array));
    const char **items = malloc(json_array_size(array) * sizeof *items);
    if (!items)
        return s_builder_failed(self, CAIRN_ENOMEM);
    size_t i;
    json_t *item;
    json_array_foreach(array, i, item)
    {
        if (!json_is_string(item)) {
            free(items);
            return s_fail(self, s_path_index(at, path, i),
                          "expected a string, found %s", s_kind(item));
        }
        items[i] = json_string_value(item);
    }
    *out = items;
    *n = json_array_size(array);
    return CAIRN_OK;
}

static void
s_pred_free(s_pred_t *pred)
{
    free(pred->name);
    free(pred->arg);
    memset(pred, 0, sizeof *pred);
}

/* Reads a predicate ({"eq": "x"}) at path: cairn_predicate_from_json()
 * checks its shape, its name and its argument (nested predicates of
 * not/all/any included); its message goes after the path. */
static int
s_predicate(const s_loader_t *self, json_t *when, const char *path,
            s_pred_t *out)
{
    char *text = json_dumps(when, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return s_builder_failed(self, CAIRN_ENOMEM);
    cairn_error_t pred_err;
    cairn_error_clear(&pred_err);
    int rc = cairn_predicate_from_json(self->registry, text, strlen(text),
                                       &out->name, &out->arg, &out->arg_len,
                                       &pred_err);
    free(text);
    if (rc == CAIRN_ENOMEM)
        return s_builder_failed(self, rc);
    if (rc != CAIRN_OK)
        return s_fail(self, path, "%s",
                      pred_err.message[0] ? pred_err.message
                                          : cairn_strerror(rc));
    return CAIRN_OK;
}

/* ---- retry and timeout ---------------------------------------------------- */

/* Reads obj.key, when present, as an integer in [min, UINT32_MAX]. */
static int
s_u32(const s_loader_t *self, json_t *obj, const char *path, const char *key,
      uint32_t min, uint32_t *out)
{
    json_t *value = json_object_get(obj, key);
    if (!value)
        return CAIRN_OK;
    char at[S_PATH_MAX];
    s_path_key(at, path, key);
    if (!json_is_integer(value) || json_integer_value(value) < (json_int_t)min
        || json_integer_value(value) > (json_int_t)UINT32_MAX)
        return s_fail(self, at, "expected an integer from %u to %u, found %s",
                      (unsigned)min, (unsigned)UINT32_MAX, s_kind(value));
    *out = (uint32_t)json_integer_value(value);
    return CAIRN_OK;
}

/* Reads "on": an array of "error" / "timeout". */
static int
s_retry_on(const s_loader_t *self, json_t *retry, const char *path,
           uint32_t *on)
{
    json_t *list = json_object_get(retry, "on");
    if (!list)
        return CAIRN_OK;
    char at[S_PATH_MAX], item_at[S_PATH_MAX];
    s_path_key(at, path, "on");
    if (!json_is_array(list) || json_array_size(list) == 0)
        return s_fail(self, at, "expected a non-empty array of \"error\" "
                                "and \"timeout\", found %s",
                      s_kind(list));
    size_t i;
    json_t *kind;
    json_array_foreach(list, i, kind)
    {
        const char *text = json_string_value(kind);
        if (text && strcmp(text, "error") == 0)
            *on |= CAIRN_RETRY_ON_ERROR;
        else if (text && strcmp(text, "timeout") == 0)
            *on |= CAIRN_RETRY_ON_TIMEOUT;
        else
            return s_fail(self, s_path_index(item_at, at, i),
                          "expected \"error\" or \"timeout\"");
    }
    return CAIRN_OK;
}

/* Reads "retry" and "timeout_ms" of obj (an executor, or the document for
 * the defaults when id is NULL) into the builder. */
static int
s_failure_settings(const s_loader_t *self, json_t *obj, const char *path,
                   const char *id)
{
    json_t *retry = json_object_get(obj, "retry");
    char at[S_PATH_MAX];
    int rc = CAIRN_OK;
    if (retry) {
        s_path_key(at, path, "retry");
        cairn_retry_policy_t policy = {.max_attempts = 1};
        if (!json_is_object(retry))
            return s_fail(self, at, "expected an object, found %s",
                          s_kind(retry));
        rc = s_check_keys(self, retry, at, s_retry_keys);
        if (rc == CAIRN_OK)
            rc = s_u32(self, retry, at, "max_attempts", 1,
                       &policy.max_attempts);
        if (rc == CAIRN_OK)
            rc = s_u32(self, retry, at, "backoff_ms", 0, &policy.backoff_ms);
        if (rc == CAIRN_OK)
            rc = s_u32(self, retry, at, "max_backoff_ms", 0,
                       &policy.max_backoff_ms);
        if (rc == CAIRN_OK)
            rc = s_retry_on(self, retry, at, &policy.on);
        if (rc == CAIRN_OK
            && cairn_builder_set_retry(self->builder, id, &policy)
                   != CAIRN_OK)
            rc = s_builder_failed(self, CAIRN_ENOMEM);
    }
    uint32_t timeout_ms = 0;
    if (rc == CAIRN_OK && json_object_get(obj, "timeout_ms")) {
        rc = s_u32(self, obj, path, "timeout_ms", 0, &timeout_ms);
        if (rc == CAIRN_OK
            && cairn_builder_set_timeout(self->builder, id, timeout_ms)
                   != CAIRN_OK)
            rc = s_builder_failed(self, CAIRN_ENOMEM);
    }
    const char *on_failure = NULL;
    if (rc == CAIRN_OK)
        rc = s_string(self, obj, path, "on_failure", false, &on_failure);
    if (rc != CAIRN_OK || !on_failure)
        return rc;
    bool dead_letter = strcmp(on_failure, "dead-letter") == 0;
    if (!dead_letter && strcmp(on_failure, "fail") != 0)
        return s_fail(self, s_path_key(at, path, "on_failure"),
                      "expected \"fail\" or \"dead-letter\", found '%s'",
                      on_failure);
    if (cairn_builder_set_on_failure(self->builder, id,
                                     dead_letter ? CAIRN_ON_FAILURE_DEAD_LETTER
                                                 : CAIRN_ON_FAILURE_FAIL)
        != CAIRN_OK)
        return s_builder_failed(self, CAIRN_ENOMEM);
    return CAIRN_OK;
}

/* ---- executors ---------------------------------------------------------- */

static int
s_executor(const s_loader_t *self, json_t *exec, size_t index)
{
    char path[S_PATH_MAX], at[S_PATH_MAX];
    s_path_index(path, "executors", index);
    if (!json_is_object(exec))
        return s_fail(self, path, "expected an object, found %s", s_kind(exec));
    const char *id, *type, *label;
    int rc = s_check_keys(self, exec, path, s_executor_keys);
    if (rc == CAIRN_OK)
        rc = s_string(self, exec, path, "id", true, &id);
    if (rc == CAIRN_OK)
        rc = s_string(self, exec, path, "type", true, &type);
    if (rc == CAIRN_OK)
        rc = s_string(self, exec, path, "label", false, &label);
    if (rc != CAIRN_OK)
        return rc;

    /* Any JSON value; sorted keys make the text (and so the signature)
     * independent of the order the author wrote the keys in. */
    json_t *config = json_object_get(exec, "config");
    char *text = NULL;
    if (config) {
        text =
            json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        if (!text)
            return s_builder_failed(self, CAIRN_ENOMEM);
    }
    rc = cairn_builder_add_executor(self->builder, id, type, text,
                                    text ? strlen(text) : 0);
    free(text);
    if (rc != CAIRN_OK)
        return s_builder_failed(self, rc);
    if (label && cairn_builder_set_label(self->builder, id, label) != CAIRN_OK)
        return s_builder_failed(self, CAIRN_ENOMEM);
    rc = s_failure_settings(self, exec, path, id);
    if (rc != CAIRN_OK)
        return rc;

    json_t *accepts = json_object_get(exec, "accepts");
    if (!accepts)
        return CAIRN_OK;
    s_path_key(at, path, "accepts");
    if (!json_is_array(accepts))
        return s_fail(self, at, "expected an array of type tags, found %s",
                      s_kind(accepts));
    size_t i;
    json_t *tag;
    json_array_foreach(accepts, i, tag)
    {
        char tag_path[S_PATH_MAX];
        if (!json_is_string(tag))
            return s_fail(self, s_path_index(tag_path, at, i),
                          "expected a string, found %s", s_kind(tag));
        rc = cairn_builder_accept(self->builder, id, json_string_value(tag));
        if (rc != CAIRN_OK)
            return s_builder_failed(self, rc);
    }
    return CAIRN_OK;
}

static int
s_executors(const s_loader_t *self, json_t *root)
{
    json_t *list = json_object_get(root, "executors");
    if (!list)
        return s_fail(self, "$", "missing required key 'executors'");
    if (!json_is_array(list) || json_array_size(list) == 0)
        return s_fail(self, "executors",
                      "expected a non-empty array of executors, found %s",
                      s_kind(list));
    size_t i;
    json_t *exec;
    json_array_foreach(list, i, exec)
    {
        int rc = s_executor(self, exec, i);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

/* ---- edges -------------------------------------------------------------- */

/* {"from": "a", "to": "b"} with an optional "when". */
static int
s_direct_edge(const s_loader_t *self, json_t *edge, const char *path,
              const char *from, const char *to)
{
    char at[S_PATH_MAX];
    s_pred_t pred = {0};
    json_t *when = json_object_get(edge, "when");
    int rc = when ? s_predicate(self, when, s_path_key(at, path, "when"), &pred)
                  : CAIRN_OK;
    if (rc == CAIRN_OK) {
        rc = cairn_builder_add_edge(self->builder, from, to, pred.name,
                                    pred.arg, pred.arg_len);
        if (rc != CAIRN_OK)
            rc = s_builder_failed(self, rc);
    }
    s_pred_free(&pred);
    return rc;
}

/* {"from": "a", "to": ["b", "c"]}: every target gets every message. */
static int
s_fan_out_edge(const s_loader_t *self, json_t *edge, const char *path,
               const char *from)
{
    char at[S_PATH_MAX];
    if (json_object_get(edge, "when"))
        return s_fail(self, s_path_key(at, path, "when"),
                      "a fan-out edge (\"to\" is a list) cannot have a "
                      "condition; use one conditional edge per target, or a "
                      "switch");
    const char **targets;
    size_t n;
    int rc = s_string_array(self, json_object_get(edge, "to"),
                            s_path_key(at, path, "to"), "executor ids",
                            &targets, &n);
    if (rc != CAIRN_OK)
        return rc;
    rc = cairn_builder_add_fan_out(self->builder, from, targets, n, NULL, NULL,
                                   0);
    free(targets);
    return rc == CAIRN_OK ? rc : s_builder_failed(self, rc);
}

/* {"from": ["b", "c"], "to": "d", "fan_in": true}. */
static int
s_fan_in_edge(const s_loader_t *self, json_t *edge, const char *path)
{
    char at[S_PATH_MAX];
    if (json_object_get(edge, "when"))
        return s_fail(self, s_path_key(at, path, "when"),
                      "a fan-in edge cannot have a condition");
    json_t *from = json_object_get(edge, "from");
    s_path_key(at, path, "from");
    if (!json_is_array(from))
        return s_fail(self, at,
                      "a fan-in edge needs an array of at least two source "
                      "ids, found %s",
                      s_kind(from));
    if (json_array_size(from) < 2)
        return s_fail(self, at,
                      "a fan-in edge needs at least two sources, found %zu",
                      json_array_size(from));
    const char *to;
    int rc = s_string(self, edge, path, "to", true, &to);
    if (rc != CAIRN_OK)
        return rc;
    const char **sources;
    size_t n;
    rc = s_string_array(self, from, at, "executor ids", &sources, &n);
    if (rc != CAIRN_OK)
        return rc;
    rc = cairn_builder_add_fan_in(self->builder, sources, n, to);
    free(sources);
    return rc == CAIRN_OK ? rc : s_builder_failed(self, rc);
}

/* Reads switch case j into *c (predicate into *pred); *default_at is the
 * index of the default case seen so far, or n when there is none yet. */
static int
s_switch_case(const s_loader_t *self, json_t *item, const char *path, size_t j,
              size_t *default_at, cairn_switch_case_t *c, s_pred_t *pred)
{
    char at[S_PATH_MAX], when_path[S_PATH_MAX];
    s_path_index(at, path, j);
    if (!json_is_object(item))
        return s_fail(self, at, "expected a case object, found %s",
                      s_kind(item));
    int rc = s_check_keys(self, item, at, s_case_keys);
    if (rc == CAIRN_OK)
        rc = s_string(self, item, at, "to", true, &c->to);
    if (rc != CAIRN_OK)
        return rc;
    json_t *is_default = json_object_get(item, "default");
    json_t *when = json_object_get(item, "when");
    if (is_default && !json_is_boolean(is_default))
        return s_fail(self, s_path_key(when_path, at, "default"),
                      "expected true or false, found %s", s_kind(is_default));
    c->is_default = is_default && json_is_true(is_default);
    if (c->is_default) {
        if (when)
            return s_fail(self, at, "the default case cannot have a 'when'");
        if (*default_at != SIZE_MAX)
            return s_fail(self, at,
                          "exactly one case must be the default; "
                          "switch[%zu] already is",
                          *default_at);
        *default_at = j;
        return CAIRN_OK;
    }
    if (!when)
        return s_fail(self, at,
                      "missing required key 'when' (or \"default\": true)");
    rc = s_predicate(self, when, s_path_key(when_path, at, "when"), pred);
    c->predicate = pred->name;
    c->arg = pred->arg;
    c->arg_len = pred->arg_len;
    return rc;
}

/* {"from": "a", "switch": [{"when": P, "to": "b"}, {"default": true,
 * "to": "c"}]}: the first case whose predicate holds, else the default. */
static int
s_switch_edge(const s_loader_t *self, json_t *edge, const char *path,
              const char *from)
{
    char at[S_PATH_MAX];
    json_t *list = json_object_get(edge, "switch");
    s_path_key(at, path, "switch");
    if (!json_is_array(list) || json_array_size(list) == 0)
        return s_fail(self, at, "expected a non-empty array of cases, found %s",
                      s_kind(list));
    size_t n = json_array_size(list);
    cairn_switch_case_t *cases = calloc(n, sizeof *cases);
    s_pred_t *preds = calloc(n, sizeof *preds);
    int rc = (cases && preds) ? CAIRN_OK : s_builder_failed(self, CAIRN_ENOMEM);
    size_t default_at = SIZE_MAX;
    for (size_t j = 0; rc == CAIRN_OK && j < n; j++)
        rc = s_switch_case(self, json_array_get(list, j), at, j, &default_at,
                           &cases[j], &preds[j]);
    if (rc == CAIRN_OK && default_at == SIZE_MAX)
        rc = s_fail(self, at,
                    "exactly one case must be the default, found none");
    if (rc == CAIRN_OK) {
        rc = cairn_builder_add_switch(self->builder, from, cases, n);
        if (rc != CAIRN_OK)
            rc = s_builder_failed(self, rc);
    }
    for (size_t j = 0; preds && j < n; j++)
        s_pred_free(&preds[j]);
    free(preds);
    free(cases);
    return rc;
}

static int
s_edge(const s_loader_t *self, json_t *edge, size_t index)
{
    char path[S_PATH_MAX], at[S_PATH_MAX];
    s_path_index(path, "edges", index);
    if (!json_is_object(edge))
        return s_fail(self, path, "expected an object, found %s", s_kind(edge));
    int rc = s_check_keys(self, edge, path, s_edge_keys);
    if (rc != CAIRN_OK)
        return rc;
    json_t *from = json_object_get(edge, "from");
    json_t *to = json_object_get(edge, "to");
    json_t *fan_in = json_object_get(edge, "fan_in");
    bool switch_form = json_object_get(edge, "switch") != NULL;
    if (!from)
        return s_fail(self, path, "missing required key 'from'");
    if (fan_in && !json_is_boolean(fan_in))
        return s_fail(self, s_path_key(at, path, "fan_in"),
                      "expected true or false, found %s", s_kind(fan_in));
    if (switch_form && (to || json_object_get(edge, "when")))
        return s_fail(self, path,
                      "a switch edge names its targets and conditions in "
                      "its cases: 'to' and 'when' cannot be used with "
                      "'switch'");
    if (fan_in && json_is_true(fan_in)) {
        if (switch_form)
            return s_fail(self, path, "'fan_in' cannot be used with 'switch'");
        return s_fan_in_edge(self, edge, path);
    }
    if (json_is_array(from))
        return s_fail(self, s_path_key(at, path, "from"),
                      "several sources make a fan-in edge: add "
                      "\"fan_in\": true");
    const char *source;
    rc = s_string(self, edge, path, "from", true, &source);
    if (rc != CAIRN_OK)
        return rc;
    if (switch_form)
        return s_switch_edge(self, edge, path, source);
    if (!to)
        return s_fail(self, path, "missing required key 'to' (or 'switch')");
    if (json_is_array(to))
        return s_fan_out_edge(self, edge, path, source);
    if (!json_is_string(to))
        return s_fail(self, s_path_key(at, path, "to"),
                      "expected an executor id or an array of them, found %s",
                      s_kind(to));
    return s_direct_edge(self, edge, path, source, json_string_value(to));
}

static int
s_edges(const s_loader_t *self, json_t *root)
{
    json_t *list = json_object_get(root, "edges");
    if (!list)
        return CAIRN_OK;
    if (!json_is_array(list))
        return s_fail(self, "edges", "expected an array of edges, found %s",
                      s_kind(list));
    size_t i;
    json_t *edge;
    json_array_foreach(list, i, edge)
    {
        int rc = s_edge(self, edge, i);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

/* ---- top level ---------------------------------------------------------- */

/* Parses the decimal N of "every:N": digits only, 1 <= N, no overflow. */
static bool
s_parse_every_n(const char *text, uint64_t *n)
{
    uint64_t value = 0;
    if (!*text)
        return false;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned digit = (unsigned)(*p - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return false;
        value = value * 10 + digit;
    }
    *n = value;
    return value >= 1;
}

static int
s_checkpoint(const s_loader_t *self, json_t *root, cairn_spec_checkpoint_t *cp)
{
    json_t *value = json_object_get(root, "checkpoint");
    if (!value)
        return CAIRN_OK;
    if (!json_is_string(value))
        return s_fail(self, "checkpoint", "%s; found %s", s_checkpoint_expected,
                      s_kind(value));
    const char *text = json_string_value(value);
    cp->has_policy = true;
    if (strcmp(text, "every") == 0)
        cp->policy.kind = CAIRN_CHECKPOINT_EVERY;
    else if (strcmp(text, "on-error") == 0)
        cp->policy.kind = CAIRN_CHECKPOINT_ON_ERROR;
    else if (strcmp(text, "manual") == 0)
        cp->policy.kind = CAIRN_CHECKPOINT_MANUAL;
    else if (strcmp(text, "none") == 0)
        cp->policy.kind = CAIRN_CHECKPOINT_NONE;
    else if (strncmp(text, "every:", 6) == 0
             && s_parse_every_n(text + 6, &cp->policy.every_n))
        cp->policy.kind = CAIRN_CHECKPOINT_EVERY_N;
    else
        return s_fail(self, "checkpoint", "%s; found '%s'",
                      s_checkpoint_expected, text);
    return CAIRN_OK;
}

static int
s_max_supersteps(const s_loader_t *self, json_t *root)
{
    json_t *value = json_object_get(root, "max_supersteps");
    if (!value)
        return CAIRN_OK;
    if (!json_is_integer(value))
        return s_fail(self, "max_supersteps",
                      "must be a positive integer, found %s", s_kind(value));
    json_int_t n = json_integer_value(value);
    if (n < 1)
        return s_fail(self, "max_supersteps",
                      "must be a positive integer, found %" JSON_INTEGER_FORMAT,
                      n);
    cairn_builder_set_max_supersteps(self->builder, (uint64_t)n);
    return CAIRN_OK;
}

/* Reads the whole document into the builder (and *cp). */
static int
s_document(const s_loader_t *self, json_t *root, cairn_spec_checkpoint_t *cp)
{
    if (!json_is_object(root))
        return s_fail(self, "$", "expected an object, found %s", s_kind(root));
    const char *name, *start;
    int rc = s_check_keys(self, root, "$", s_top_keys);
    if (rc == CAIRN_OK)
        rc = s_string(self, root, "$", "name", false, &name);
    if (rc == CAIRN_OK)
        rc = s_string(self, root, "$", "start", true, &start);
    if (rc == CAIRN_OK)
        rc = s_max_supersteps(self, root);
    if (rc == CAIRN_OK)
        rc = s_checkpoint(self, root, cp);
    if (rc == CAIRN_OK)
        rc = s_failure_settings(self, root, "$", NULL);
    if (rc == CAIRN_OK)
        rc = s_executors(self, root);
    if (rc == CAIRN_OK)
        rc = s_edges(self, root);
    if (rc != CAIRN_OK)
        return rc;
    if (name)
        rc = cairn_builder_set_name(self->builder, name);
    if (rc == CAIRN_OK)
        rc = cairn_builder_set_start(self->builder, start);
    return rc == CAIRN_OK ? rc : s_builder_failed(self, rc);
}

/* ---- mapping build problems back to paths ------------------------------ */

/* The path of the JSON value behind field (item) of edges[e], the edge
 * JSON being edge: the loader adds one switch case per switch[j], one
 * target per to[j], one source per from[j]. Only an unknown executor
 * names one element of a from/to list; other problems there (a repeated
 * source) name the list. */
static void
s_edge_field_path(json_t *edge, size_t e, const cairn_build_problem_t *pb,
                  char *path)
{
    bool is_switch = json_object_get(edge, "switch") != NULL;
    bool element = pb->kind == CAIRN_BUILD_UNKNOWN_EXECUTOR;
    const char *field = pb->field;
    if (strcmp(field, "from") != 0 && strcmp(field, "to") != 0
        && strcmp(field, "when") != 0)
        s_path(path, "edges[%zu]", e);
    else if (is_switch && strcmp(field, "from") != 0)
        s_path(path, "edges[%zu].switch[%zu].%s", e, pb->item, field);
    else if (element && json_is_array(json_object_get(edge, field)))
        s_path(path, "edges[%zu].%s[%zu]", e, field, pb->item);
    else
        s_path(path, "edges[%zu].%s", e, field);
}

/* Reports a cairn_builder_build_with() failure as "FILE: PATH: MESSAGE".
 * The loader adds executors[i] as the builder's executor i and edges[e]
 * as its edge e, so (subject, index, field) is a JSON path. */
static int
s_build_failed(const s_loader_t *self, json_t *root,
               const cairn_error_t *build_err, const cairn_build_problem_t *pb)
{
    const char *msg = build_err->message;
    char path[S_PATH_MAX];
    if (build_err->code != CAIRN_EVALIDATION)
        return cairn_error_set(self->err, build_err->code, "%s: %s", self->what,
                               msg);
    json_t *edge = json_array_get(json_object_get(root, "edges"), pb->index);
    switch (pb->subject) {
    case CAIRN_BUILD_AT_EXECUTOR:
        s_path(path, "executors[%zu]%s%s", pb->index, *pb->field ? "." : "",
               pb->field);
        return s_fail(self, path, "%s", msg);
    case CAIRN_BUILD_AT_EDGE:
        if (!edge)
            break;
        s_edge_field_path(edge, pb->index, pb, path);
        return s_fail(self, path, "%s", msg);
    case CAIRN_BUILD_AT_START:
        /* The builder's message begins "start: ", which is the path
         * itself: say the rest without repeating it. */
        return s_fail(self, "start", "unknown executor '%s'",
                      json_string_value(json_object_get(root, "start")));
    default:
        break;
    }
    return s_fail(self, "$", "%s", msg);
}

/* ---- public ------------------------------------------------------------- */

int
cairn_spec_load(const char *text, size_t len, const char *what,
                const cairn_registry_t *registry, cairn_workflow_t **out,
                cairn_spec_checkpoint_t *checkpoint, cairn_error_t *err)
{
    return cairn_spec_load_with(text, len, what, registry, NULL, out,
                                checkpoint, err);
}

int
cairn_spec_load_with(const char *text, size_t len, const char *what,
                     const cairn_registry_t *registry,
                     const cairn_spec_options_t *options,
                     cairn_workflow_t **out,
                     cairn_spec_checkpoint_t *checkpoint, cairn_error_t *err)
{
    cairn_error_clear(err);
    if (!what)
        what = "spec";
    if (checkpoint)
        memset(checkpoint, 0, sizeof *checkpoint);
    if (out)
        *out = NULL;
    if (!out || !registry || (!text && len > 0))
        return cairn_error_set(err, CAIRN_EINVAL, "%s: invalid arguments",
                               what);
    json_error_t json_err;
    json_t *root =
        json_loadb(text ? text : "", len,
                   JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &json_err);
    if (!root)
        return cairn_error_set(err, CAIRN_EVALIDATION,
                               "%s: line %d, column %d: %s", what,
                               json_err.line, json_err.column, json_err.text);
    s_loader_t self = {what, registry, cairn_builder_new(registry), err};
    cairn_spec_checkpoint_t cp;
    memset(&cp, 0, sizeof cp);
    if (self.builder && options)
        cairn_builder_allow_worker_types(self.builder, options->worker_types);
    int rc = self.builder ? s_document(&self, root, &cp)
                          : s_builder_failed(&self, CAIRN_ENOMEM);
    if (rc == CAIRN_OK) {
        cairn_error_t build_err;
        cairn_build_problem_t problem;
        cairn_error_clear(&build_err);
        rc = cairn_builder_build_with(self.builder, out, &build_err, &problem);
        if (rc != CAIRN_OK)
            rc = s_build_failed(&self, root, &build_err, &problem);
    }
    if (rc == CAIRN_OK && checkpoint)
        *checkpoint = cp;
    cairn_builder_destroy(&self.builder);
    json_decref(root);
    return rc;
}

/* Reports a failed open/read of path, closing fd (if >= 0) and freeing
 * buf: CAIRN_ENOTFOUND with strerror (CAIRN_ENOMEM for ENOMEM). */
static int
s_read_failed(cairn_error_t *err, const char *path, int error, int fd,
              char *buf)
{
    free(buf);
    if (fd >= 0)
        close(fd);
    return cairn_error_set(err,
                           error == ENOMEM ? CAIRN_ENOMEM : CAIRN_ENOTFOUND,
                           "%s: %s", path, strerror(error));
}

int
cairn_spec_read_file(const char *path, char **text, size_t *len,
                     cairn_error_t *err)
{
    cairn_error_clear(err);
    if (!path || !text || !len)
        return cairn_error_set(err, CAIRN_EINVAL, "invalid arguments");
    *text = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return s_read_failed(err, path, errno, -1, NULL);
    int error = cairn__read_fd(fd, S_MAX_SPEC_SIZE, text, len);
    if (error == EFBIG) {
        close(fd);
        return cairn_error_set(err, CAIRN_ETOOLARGE,
                               "%s: larger than %zu MiB, too large for a spec",
                               path, S_MAX_SPEC_SIZE / (1024 * 1024));
    }
    if (error != 0)
        return s_read_failed(err, path, error, fd, NULL);
    close(fd);
    return CAIRN_OK;
}
