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
 * "all" and "any" an array of them. Their check functions read and check
 * every nested predicate when the workflow is built, so a typo deep in a
 * condition is a build error, not a silently false edge at run time. Their
 * eval functions parse the argument again on every call (no cache: the
 * registry passes only bytes, and the arguments are small) and evaluate
 * the nested predicates through the registry.
 *
 * Everything here is reentrant and keeps no state between calls.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/builtins.h"
#include "engine/registry_internal.h"

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

/* Evaluates one nested predicate (already checked at build time) into
 * *result; returns false when it cannot be read (cannot happen for a
 * checked workflow). */
static bool
s_eval_value(const cairn_registry_t *registry, const json_t *value,
             const cairn_msg_t *msg, bool *result)
{
    char *name;
    uint8_t *arg;
    size_t arg_len;
    if (s_read(registry, value, &name, &arg, &arg_len, NULL) != CAIRN_OK)
        return false;
    *result = cairn_registry_eval(registry, name, msg, arg, arg_len);
    free(name);
    free(arg);
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

/* An unreadable operand is false, and so is its negation: a bad argument
 * must never turn into "true". */
static bool
s_not(const cairn_registry_t *registry, const cairn_msg_t *msg,
      const uint8_t *arg, size_t arg_len)
{
    json_t *root = s_parse_arg(arg, arg_len);
    bool operand = true;
    bool readable = root && s_eval_value(registry, root, msg, &operand);
    json_decref(root);
    return readable && !operand;
}

/* all (want_all) or any over the array in arg. */
static bool
s_combine(const cairn_registry_t *registry, const cairn_msg_t *msg,
          const uint8_t *arg, size_t arg_len, bool want_all)
{
    json_t *root = s_parse_arg(arg, arg_len);
    if (!json_is_array(root)) {
        json_decref(root);
        return false;
    }
    bool result = want_all;
    size_t i;
    json_t *item;
    json_array_foreach(root, i, item)
    {
        bool value = false;
        if (!s_eval_value(registry, item, msg, &value) || value != want_all) {
            result = !want_all && value;
            break;
        }
    }
    json_decref(root);
    return result;
}

static bool
s_all(const cairn_registry_t *registry, const cairn_msg_t *msg,
      const uint8_t *arg, size_t arg_len)
{
    return s_combine(registry, msg, arg, arg_len, true);
}

static bool
s_any(const cairn_registry_t *registry, const cairn_msg_t *msg,
      const uint8_t *arg, size_t arg_len)
{
    return s_combine(registry, msg, arg, arg_len, false);
}

/* Reads and checks one nested predicate. where (may be NULL) is put in
 * front of an error message: "element [2]: ...". */
static int
s_check_nested(const cairn_registry_t *registry, const json_t *value,
               const char *where, cairn_error_t *err)
{
    char *name;
    uint8_t *arg;
    size_t arg_len;
    cairn_error_t inner;
    cairn_error_clear(&inner);
    int rc = s_read_checked(registry, value, &name, &arg, &arg_len, &inner);
    if (rc != CAIRN_OK)
        return cairn_error_set(err, rc, "%s%s%s", where ? where : "",
                               where ? ": " : "", inner.message);
    free(name);
    free(arg);
    return CAIRN_OK;
}

static int
s_check_not(const cairn_registry_t *registry, const uint8_t *arg,
            size_t arg_len, cairn_error_t *err)
{
    json_t *root;
    int rc = s_parse((const char *)arg, arg_len, "argument", &root, err);
    if (rc != CAIRN_OK)
        return rc;
    rc = s_check_nested(registry, root, NULL, err);
    json_decref(root);
    return rc;
}

/* Checks the argument of all / any: an array of predicates (an empty one
 * is allowed: all of none is true, any of none is false). */
static int
s_check_list(const cairn_registry_t *registry, const uint8_t *arg,
             size_t arg_len, cairn_error_t *err)
{
    json_t *root;
    int rc = s_parse((const char *)arg, arg_len, "argument", &root, err);
    if (rc != CAIRN_OK)
        return rc;
    if (!json_is_array(root)) {
        rc = cairn_error_set(err, CAIRN_EINVAL,
                             "argument must be an array of predicates, got %s",
                             s_json_kind(root));
        json_decref(root);
        return rc;
    }
    size_t i;
    json_t *item;
    json_array_foreach(root, i, item)
    {
        char where[40];
        snprintf(where, sizeof where, "element [%zu]", i);
        rc = s_check_nested(registry, item, where, err);
        if (rc != CAIRN_OK)
            break;
    }
    json_decref(root);
    return rc;
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
