/* expand_env.c - ${NAME} references replaced from the environment
 * (cairn_expand_env, include/cairn/spec.h).
 *
 * Specs keep ${NAME} as written, so secrets never reach the store or a
 * workflow signature; executor types expand their string configs when
 * they start, on the host that runs them. getenv() only: no state here,
 * safe from any thread as long as nobody changes the environment.
 */
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "cairn/spec.h"

static bool
s_is_name_char(char c, bool first)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (!first && c >= '0' && c <= '9');
}

/* Appends the value of the variable whose reference starts at text[*i]
 * ("${"), advancing *i past the closing brace. */
static int
s_expand_one(const char *text, size_t *i, cairn__buf_t *out, cairn_error_t *err)
{
    size_t start = *i + 2, end = start;
    while (text[end] && s_is_name_char(text[end], end == start))
        end++;
    if (end == start || text[end] != '}')
        return cairn_error_set(err, CAIRN_EINVAL,
                               "malformed variable reference at offset %zu: "
                               "expected ${NAME} with NAME made of letters, "
                               "digits and '_', not starting with a digit",
                               *i);
    char name[256];
    if (end - start >= sizeof name)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "variable name at offset %zu is too long", *i);
    memcpy(name, text + start, end - start);
    name[end - start] = '\0';
    const char *value = getenv(name);
    if (!value)
        return cairn_error_set(err, CAIRN_ENOTFOUND,
                               "environment variable %s is not set", name);
    if (!cairn__buf_append(out, value, strlen(value)))
        return cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    *i = end + 1;
    return CAIRN_OK;
}

int
cairn_expand_env(const char *text, char **out, cairn_error_t *err)
{
    if (!text || !out)
        return cairn_error_set(err, CAIRN_EINVAL,
                               "cairn_expand_env: missing argument");
    *out = NULL;
    cairn__buf_t buf = {0};
    int rc = CAIRN_OK;
    size_t i = 0;
    while (rc == CAIRN_OK && text[i]) {
        if (text[i] == '$' && text[i + 1] == '{') {
            rc = s_expand_one(text, &i, &buf, err);
        } else {
            size_t run = strcspn(text + i + 1, "$") + 1;
            if (!cairn__buf_append(&buf, text + i, run))
                rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
            i += run;
        }
    }
    if (rc == CAIRN_OK && !cairn__buf_append(&buf, "", 1))
        rc = cairn_error_set(err, CAIRN_ENOMEM, "out of memory");
    if (rc != CAIRN_OK) {
        cairn__buf_free(&buf);
        return rc;
    }
    *out = (char *)buf.data;
    return CAIRN_OK;
}
