/* predicates.c - the built-in edge predicates over a message payload.
 *
 * Text predicates compare bytes (no locale). Integer predicates parse the
 * whole payload as a decimal int64; a payload that is not one is false,
 * never an error, so a workflow can route "anything else" to a default.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "graph/registry_internal.h"

bool
cairn__parse_int64(const uint8_t *text, size_t len, int64_t *out)
{
    while (len > 0 && (*text == ' ' || *text == '\t' || *text == '\n'
                       || *text == '\r')) {
        text++;
        len--;
    }
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'
                       || text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    char buffer[32];
    if (len == 0 || len >= sizeof buffer)
        return false;
    memcpy(buffer, text, len);
    buffer[len] = '\0';
    size_t start = (buffer[0] == '-' || buffer[0] == '+') ? 1 : 0;
    if (buffer[start] == '\0')
        return false;
    for (size_t i = start; buffer[i]; i++)
        if (buffer[i] < '0' || buffer[i] > '9')
            return false;
    errno = 0;
    long long value = strtoll(buffer, NULL, 10);
    if (errno == ERANGE)
        return false;
    *out = (int64_t)value;
    return true;
}

static bool
s_always(const cairn_registry_t *registry, const cairn_msg_t *msg,
         const uint8_t *arg, size_t arg_len)
{
    (void)registry, (void)msg, (void)arg, (void)arg_len;
    return true;
}

static bool
s_never(const cairn_registry_t *registry, const cairn_msg_t *msg,
        const uint8_t *arg, size_t arg_len)
{
    (void)registry, (void)msg, (void)arg, (void)arg_len;
    return false;
}

static bool
s_eq(const cairn_registry_t *registry, const cairn_msg_t *msg,
     const uint8_t *arg, size_t arg_len)
{
    (void)registry;
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    return len == arg_len && (len == 0 || memcmp(payload, arg, len) == 0);
}

static bool
s_ne(const cairn_registry_t *registry, const cairn_msg_t *msg,
     const uint8_t *arg, size_t arg_len)
{
    return !s_eq(registry, msg, arg, arg_len);
}

static bool
s_prefix(const cairn_registry_t *registry, const cairn_msg_t *msg,
         const uint8_t *arg, size_t arg_len)
{
    (void)registry;
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    return len >= arg_len && (arg_len == 0 || memcmp(payload, arg, arg_len) == 0);
}

static bool
s_contains(const cairn_registry_t *registry, const cairn_msg_t *msg,
           const uint8_t *arg, size_t arg_len)
{
    (void)registry;
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    if (arg_len == 0)
        return true;
    return len >= arg_len && memmem(payload, len, arg, arg_len) != NULL;
}

/* Compares payload with arg as integers: returns false when either is not
 * one, else stores the sign of (payload - arg) in *order. */
static bool
s_int_order(const cairn_msg_t *msg, const uint8_t *arg, size_t arg_len,
            int *order)
{
    size_t len;
    const uint8_t *payload = cairn_msg_payload(msg, &len);
    int64_t value, bound;
    if (!cairn__parse_int64(payload, len, &value)
        || !cairn__parse_int64(arg, arg_len, &bound))
        return false;
    *order = (value > bound) - (value < bound);
    return true;
}

#define S_INT_PREDICATE(fn_name, condition)                                    \
    static bool fn_name(const cairn_registry_t *registry,                     \
                        const cairn_msg_t *msg, const uint8_t *arg,           \
                        size_t arg_len)                                        \
    {                                                                          \
        (void)registry;                                                        \
        int order;                                                             \
        return s_int_order(msg, arg, arg_len, &order) && (condition);          \
    }

S_INT_PREDICATE(s_int_lt, order < 0)
S_INT_PREDICATE(s_int_le, order <= 0)
S_INT_PREDICATE(s_int_gt, order > 0)
S_INT_PREDICATE(s_int_ge, order >= 0)

static int
s_check_int_arg(const cairn_registry_t *registry, const uint8_t *arg,
                size_t arg_len, cairn_error_t *err)
{
    (void)registry;
    int64_t value;
    if (!cairn__parse_int64(arg, arg_len, &value))
        return cairn_error_set(err, CAIRN_EINVAL,
                               "argument '%.*s' is not a decimal integer",
                               (int)(arg_len > 64 ? 64 : arg_len),
                               (const char *)arg);
    return CAIRN_OK;
}

int
cairn__predicates_register(cairn_registry_t *registry)
{
    static const struct {
        const char *name;
        cairn_predicate_fn eval;
        cairn_predicate_check_fn check;
    } builtins[] = {
        {"always", s_always, NULL},
        {"never", s_never, NULL},
        {"eq", s_eq, NULL},
        {"ne", s_ne, NULL},
        {"prefix", s_prefix, NULL},
        {"contains", s_contains, NULL},
        {"int_lt", s_int_lt, s_check_int_arg},
        {"int_le", s_int_le, s_check_int_arg},
        {"int_gt", s_int_gt, s_check_int_arg},
        {"int_ge", s_int_ge, s_check_int_arg},
    };
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        int rc = cairn_registry_add_predicate(registry, builtins[i].name,
                                              builtins[i].eval,
                                              builtins[i].check);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}
