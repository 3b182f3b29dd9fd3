/* ids.c - see ids.h. */
#include <stdlib.h>
#include <string.h>

#include "base/ids.h"

bool
cairn__valid_id(const char *id)
{
    size_t len = strlen(id);
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                  || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

bool
cairn__checkpoint_id_parse(const char *id, char *run_id, size_t run_id_size,
                           uint64_t *superstep)
{
    const char *at = strrchr(id, '@');
    if (!at || at == id || (size_t)(at - id) >= run_id_size)
        return false;
    memcpy(run_id, id, (size_t)(at - id));
    run_id[at - id] = '\0';
    if (!cairn__valid_id(run_id) || at[1] == '\0' || strlen(at + 1) > 19)
        return false;
    for (const char *p = at + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    *superstep = strtoull(at + 1, NULL, 10);
    return true;
}
