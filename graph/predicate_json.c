/* predicate_json.c - predicates written as JSON, and the composite
 * predicates not / all / any that are built from them.
 *
 * A JSON predicate is an object with exactly one member: the predicate's
 * registered name and its argument, e.g. {"int_lt": 10}. The argument is
 * turned into the bytes the predicate function receives: a string as its
 * bytes, a number as its decimal text, anything else as compact JSON with
 * sorted keys (so equal predicates always give equal bytes, which keeps
 * workflow signatures stable).
 *
 * The composites take JSON text as their argument: "not" one predicate,
 * "all" and "any" an array of them, nested at most
 * CAIRN_PREDICATE_MAX_DEPTH deep. Their check functions read and check
 * every nested predicate when the workflow is built, so a typo deep in a
 * condition is a build error, not a silently false edge at run time. Their
 * eval functions parse the argument again on every call (no cache: the
 * registry passes only bytes, and the arguments are small) and walk the
 * parsed tree, calling the registry for the other predicates in it: one
 * parse and one walk per call, linear in the argument's size.
 *
 * Everything here is reentrant and keeps no state between calls.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/registry.h"
#include "graph/registry_internal.h"

/* Decoding flags: a duplicated member is an error rather than "last one
 * wins", and a bare value decodes so the error can say what it got. */
#define S_DECODE_FLAGS                                                         \
    (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)

static const char *
s_json_kind(const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* Parses text as any JSON value; on failure fills err, naming `what`. */
static int
s_parse(const char *text, size_t len, const char *what, json_t **out,
        cairn_error_t *err)
{
    json_error_t jerr;
    *out = json_loadb(text ? text : "", text ? len : 0, S_DECODE_FLAGS, &jerr);
    if (!*out)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "%s is not valid JSON: %s (line %d, column %d)",
                               what, jerr.text, jerr.line, jerr.column);
    return CAIRN_OK;
}

/* The shortest "%.*g" text of a real that reads back as the same value;
 * integral values print without a fraction ("10", not "10.0"). */
static char *
s_real_text(double value)
{
    char text[40];
    if (isfinite(value) && fabs(value) < 1e15
        && value == (double)(long long)value) {
        snprintf(text, sizeof text, "%.0f", value);
        return strdup(text);
    }
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, value);
        if (strtod(text, NULL) == value)
            break;
    }
    return strdup(text);
}

/* Turns a predicate argument into the bytes the predicate receives.
 * *arg is malloc'd (never NULL on success, even when empty). */
static int
s_arg_bytes(const json_t *value, uint8_t **arg, size_t *arg_len,
            cairn_error_t *err)
{
    char *text;
    size_t len;
    if (json_is_string(value)) {
        len = json_string_length(value);
        text = malloc(len + 1);
        if (text)
            memcpy(text, json_string_value(value), len + 1);
    } else if (json_is_integer(value)) {
        char number[24];
        snprintf(number, sizeof number, "%lld",
                 (long long)json_integer_value(value));
        text = strdup(number);
        len = text ? strlen(text) : 0;
    } else if (json_is_real(value)) {
        text = s_real_text(json_real_value(value));
        len = text ? strlen(text) : 0;
    } else {
        text =
            json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        len = text ? strlen(text) : 0;
    }
    if (!text)
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    *arg = (uint8_t *)text;
    *arg_len = len;
    return CAIRN_OK;
}

/* Reads one predicate object without checking its argument. */
static int
s_read(const cairn_registry_t *registry, const json_t *value, char **name,
       uint8_t **arg, size_t *arg_len, cairn_error_t *err)
{
    if (!json_is_object(value))
        return cairn_error_set(err, CAIRN_EINVAL,
                               "a predicate must be a JSON object with one "
                               "member, like {\"eq\": \"x\"}; got %s",
                               s_json_kind(value));
    if (json_object_size(value) != 1)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "a predicate must have exactly one member "
                               "(its name), got %zu",
                               json_object_size(value));
    void *iter = json_object_iter((json_t *)value);
    const char *key = json_object_iter_key(iter);
    if (!cairn_registry_has_predicate(registry, key))
        return cairn_error_set(err, CAIRN_EINVAL, "unknown predicate '%s'",
                               key);
    int rc = s_arg_bytes(json_object_iter_value(iter), arg, arg_len, err);
    if (rc != CAIRN_OK)
        return rc;
    *name = strdup(key);
    if (!*name) {
        free(*arg);
        *arg = NULL;
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    }
    return CAIRN_OK;
}

/* Runs the check function of predicate name (if it has one) on arg. */
static int
s_check_arg(const cairn_registry_t *registry, const char *name,
            const uint8_t *arg, size_t arg_len, cairn_error_t *err)
{
    cairn_predicate_check_fn check =
        cairn__registry_predicate_check(registry, name);
    if (!check)
        return CAIRN_OK;
    cairn_error_t inner;
    cairn_error_clear(&inner);
    int rc = check(registry, arg, arg_len, &inner);
    if (rc == CAIRN_OK)
        return CAIRN_OK;
    return cairn_error_set(
        err, rc < 0 ? rc : CAIRN_EINVAL, "predicate '%s': %s", name,
        inner.message[0] ? inner.message : cairn_strerror(rc));
}

/* Reads one predicate object and checks its argument. */
static int
s_read_checked(const cairn_registry_t *registry, const json_t *value,
               char **name, uint8_t **arg, size_t *arg_len, cairn_error_t *err)
{
    int rc = s_read(registry, value, name, arg, arg_len, err);
    if (rc != CAIRN_OK)
        return rc;
    rc = s_check_arg(registry, *name, *arg, *arg_len, err);
    if (rc != CAIRN_OK) {
        free(*name);
        free(*arg);
        *name = NULL;
        *arg = NULL;
    }
    return rc;
}

int
cairn_predicate_from_json(const cairn_registry_t *registry, const char *json,
                          size_t len, char **name, uint8_t **arg,
                          size_t *arg_len, cairn_error_t *err)
{
    if (!registry || !name || !arg || !arg_len)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "cairn_predicate_from_json: missing argument");
    *name = NULL;
    *arg = NULL;
    *arg_len = 0;
    json_t *root;
    int rc = s_parse(json, len, "predicate", &root, err);
    if (rc != CAIRN_OK)
        return rc;
    rc = s_read_checked(registry, root, name, arg, arg_len, err);
    json_decref(root);
    return rc;
}

/* ---- the composites, walked on one parsed tree ------------------------------
 *
 * A composite's argument is parsed once, and the predicates nested in it
 * are evaluated and checked on that tree. Handing each nested composite
 * to the registry as text instead would serialise and parse its subtree
 * again at every level: quadratic in the depth (2,000 nested "not" took
 * 5.6 s and 630 MB). The depth is bounded too (CAIRN_PREDICATE_MAX_DEPTH),
 * so the recursion is, and checking refuses a deeper one before walking
 * it.
 */

static bool
s_not(const cairn_registry_t *registry, const cairn_msg_t *msg,
      const uint8_t *arg, size_t arg_len);
static bool
s_all(const cairn_registry_t *registry, const cairn_msg_t *msg,
      const uint8_t *arg, size_t arg_len);
static bool
s_any(const cairn_registry_t *registry, const cairn_msg_t *msg,
      const uint8_t *arg, size_t arg_len);

typedef enum { S_LEAF, S_NOT, S_ALL, S_ANY } s_composite_t;

/* Which composite the predicate named name is (S_LEAF: none, or unknown). */
static s_composite_t
s_composite(const cairn_registry_t *registry, const char *name)
{
    cairn_predicate_fn fn = cairn__registry_predicate_eval(registry, name);
    return fn == s_not   ? S_NOT
           : fn == s_all ? S_ALL
           : fn == s_any ? S_ANY
                         : S_LEAF;
}

/* The name and argument of a predicate object {"name": ARG}; false when
 * value is not one. */
static bool
s_member(const json_t *value, const char **name, const json_t **arg)
{
    if (!json_is_object(value) || json_object_size(value) != 1)
        return false;
    void *iter = json_object_iter((json_t *)value);
    *name = json_object_iter_key(iter);
    *arg = json_object_iter_value(iter);
    return true;
}

static unsigned
s_depth(const cairn_registry_t *registry, const json_t *value, unsigned above);

/* How deep composites nest in the operand(s) of a composite of kind that
 * is itself level (the outermost is 1): level when none does. Stops
 * counting past CAIRN_PREDICATE_MAX_DEPTH, so it costs at most the size
 * of the tree down to that depth. */
static unsigned
s_operands_depth(const cairn_registry_t *registry, s_composite_t kind,
                 const json_t *operand, unsigned level)
{
    if (kind == S_NOT)
        return s_depth(registry, operand, level);
    unsigned deepest = level;
    size_t i;
    json_t *item;
    json_array_foreach(operand, i, item)
    {
        unsigned depth = s_depth(registry, item, level);
        deepest = depth > deepest ? depth : deepest;
        if (deepest > CAIRN_PREDICATE_MAX_DEPTH)
            break;
    }
    return deepest;
}

/* The same for the predicate object value under above levels. */
static unsigned
s_depth(const cairn_registry_t *registry, const json_t *value, unsigned above)
{
    const char *name;
    const json_t *arg;
    if (above > CAIRN_PREDICATE_MAX_DEPTH || !s_member(value, &name, &arg))
        return above;
    s_composite_t kind = s_composite(registry, name);
    return kind == S_LEAF ? above
                          : s_operands_depth(registry, kind, arg, above + 1);
}

static bool
s_eval_tree(const cairn_registry_t *registry, const json_t *value,
            const cairn_msg_t *msg, unsigned depth, bool *result);

/* Evaluates composite kind over its operand tree into *result; false
 * when an operand cannot be read (cannot happen for a checked workflow). */
static bool
s_eval_composite(const cairn_registry_t *registry, s_composite_t kind,
                 const json_t *operand, const cairn_msg_t *msg,
                 unsigned depth, bool *result)
{
    if (kind == S_NOT) {
        bool value;
        if (!s_eval_tree(registry, operand, msg, depth + 1, &value))
            return false;
        *result = !value;
        return true;
    }
    if (!json_is_array(operand))
        return false;
    bool want_all = kind == S_ALL;
    *result = want_all;
    size_t i;
    json_t *item;
    json_array_foreach(operand, i, item)
    {
        bool value = false;
        if (!s_eval_tree(registry, item, msg, depth + 1, &value)
            || value != want_all) {
            *result = !want_all && value;
            break;
        }
    }
    return true;
}

/* Evaluates the predicate object value into *result; depth is its level
 * when it is a composite (the outermost is 1). False when it cannot be
 * read. */
static bool
s_eval_tree(const cairn_registry_t *registry, const json_t *value,
            const cairn_msg_t *msg, unsigned depth, bool *result)
{
    const char *name;
    const json_t *arg;
    if (!s_member(value, &name, &arg)
        || !cairn_registry_has_predicate(registry, name))
        return false;
    s_composite_t kind = s_composite(registry, name);
    if (kind != S_LEAF && depth > CAIRN_PREDICATE_MAX_DEPTH)
        return false;
    if (kind != S_LEAF)
        return s_eval_composite(registry, kind, arg, msg, depth, result);
    uint8_t *bytes;
    size_t len;
    if (s_arg_bytes(arg, &bytes, &len, NULL) != CAIRN_OK)
        return false;
    *result = cairn_registry_eval(registry, name, msg, bytes, len);
    free(bytes);
    return true;
}

/* Parses a composite's argument; NULL when it is not JSON. */
static json_t *
s_parse_arg(const uint8_t *arg, size_t arg_len)
{
    json_t *root = NULL;
    if (s_parse((const char *)arg, arg_len, "argument", &root, NULL)
        != CAIRN_OK)
        return NULL;
    return root;
}

/* The eval function of composite kind. An unreadable operand is false,
 * and so is its negation: a bad argument must never turn into "true". */
static bool
s_eval_top(const cairn_registry_t *registry, s_composite_t kind,
           const cairn_msg_t *msg, const uint8_t *arg, size_t arg_len)
{
    json_t *root = s_parse_arg(arg, arg_len);
    bool result = false;
    bool readable =
        root && s_eval_composite(registry, kind, root, msg, 1, &result);
    json_decref(root);
    return readable && result;
}

static bool
s_not(const cairn_registry_t *registry, const cairn_msg_t *msg,
      const uint8_t *arg, size_t arg_len)
{
    return s_eval_top(registry, S_NOT, msg, arg, arg_len);
}

static bool
s_all(const cairn_registry_t *registry, const cairn_msg_t *msg,
      const uint8_t *arg, size_t arg_len)
{
    return s_eval_top(registry, S_ALL, msg, arg, arg_len);
}

static bool
s_any(const cairn_registry_t *registry, const cairn_msg_t *msg,
      const uint8_t *arg, size_t arg_len)
{
    return s_eval_top(registry, S_ANY, msg, arg, arg_len);
}

static int
s_check_tree(const cairn_registry_t *registry, const json_t *value,
             cairn_error_t *err);

/* Checks one nested predicate. where (may be NULL) is put in front of an
 * error message: "element [2]: ...". */
static int
s_check_nested(const cairn_registry_t *registry, const json_t *value,
               const char *where, cairn_error_t *err)
{
    cairn_error_t inner;
    cairn_error_clear(&inner);
    int rc = s_check_tree(registry, value, &inner);
    if (rc != CAIRN_OK)
        return cairn_error_set(err, rc, "%s%s%s", where ? where : "",
                               where ? ": " : "", inner.message);
    return CAIRN_OK;
}

/* Checks the operand tree of composite kind: one predicate for not, an
 * array of them for all / any (an empty one is allowed: all of none is
 * true, any of none is false). */
static int
s_check_operands(const cairn_registry_t *registry, s_composite_t kind,
                 const json_t *operand, cairn_error_t *err)
{
    if (kind == S_NOT)
        return s_check_nested(registry, operand, NULL, err);
    if (!json_is_array(operand))
        return cairn_error_set(err, CAIRN_EINVAL,
                               "argument must be an array of predicates, got %s",
                               s_json_kind(operand));
    size_t i;
    json_t *item;
    json_array_foreach(operand, i, item)
    {
        char where[40];
        snprintf(where, sizeof where, "element [%zu]", i);
        int rc = s_check_nested(registry, item, where, err);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

/* Checks the predicate object value: its shape, its name and its
 * argument; a composite's operands on the tree itself. */
static int
s_check_tree(const cairn_registry_t *registry, const json_t *value,
             cairn_error_t *err)
{
    const char *name;
    const json_t *arg;
    s_composite_t kind = S_LEAF;
    if (s_member(value, &name, &arg)
        && cairn_registry_has_predicate(registry, name))
        kind = s_composite(registry, name);
    if (kind == S_LEAF) {
        char *leaf;
        uint8_t *bytes;
        size_t len;
        int rc = s_read_checked(registry, value, &leaf, &bytes, &len, err);
        if (rc == CAIRN_OK) {
            free(leaf);
            free(bytes);
        }
        return rc;
    }
    cairn_error_t inner;
    cairn_error_clear(&inner);
    int rc = s_check_operands(registry, kind, arg, &inner);
    if (rc != CAIRN_OK)
        return cairn_error_set(err, rc, "predicate '%s': %s", name,
                               inner.message);
    return CAIRN_OK;
}

/* The check function of composite kind: parses the argument once,
 * refuses a nesting deeper than CAIRN_PREDICATE_MAX_DEPTH before looking
 * further, then checks the tree. */
static int
s_check_composite(const cairn_registry_t *registry, s_composite_t kind,
                  const uint8_t *arg, size_t arg_len, cairn_error_t *err)
{
    json_t *root;
    int rc = s_parse((const char *)arg, arg_len, "argument", &root, err);
    if (rc != CAIRN_OK)
        return rc;
    if (s_operands_depth(registry, kind, root, 1) > CAIRN_PREDICATE_MAX_DEPTH)
        rc = cairn_error_set(err, CAIRN_EINVAL,
                             "not / all / any nest deeper than %d levels",
                             CAIRN_PREDICATE_MAX_DEPTH);
    else
        rc = s_check_operands(registry, kind, root, err);
    json_decref(root);
    return rc;
}

static int
s_check_not(const cairn_registry_t *registry, const uint8_t *arg,
            size_t arg_len, cairn_error_t *err)
{
    return s_check_composite(registry, S_NOT, arg, arg_len, err);
}

static int
s_check_list(const cairn_registry_t *registry, const uint8_t *arg,
             size_t arg_len, cairn_error_t *err)
{
    /* all and any take the same argument */
    return s_check_composite(registry, S_ALL, arg, arg_len, err);
}

int
cairn__predicate_composites_register(cairn_registry_t *registry)
{
    int rc = cairn_registry_add_predicate(registry, "not", s_not, s_check_not);
    if (rc == CAIRN_OK)
        rc = cairn_registry_add_predicate(registry, "all", s_all, s_check_list);
    if (rc == CAIRN_OK)
        rc = cairn_registry_add_predicate(registry, "any", s_any, s_check_list);
    return rc;
}
