/* ids.h - the one rule for names users give: executor, run, worker and
 * checkpoint-store ids. It lives in base because the storage layer checks
 * run ids it reads from files and the graph layer checks executor ids. */
#ifndef CAIRN_IDS_H_INCLUDED
#define CAIRN_IDS_H_INCLUDED

#include <stdbool.h>

/* True when id matches [A-Za-z0-9_-]{1,64}. */
bool
cairn__valid_id(const char *id);

#endif
