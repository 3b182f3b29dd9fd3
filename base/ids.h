/* ids.h - the one rule for names users give: executor, run, worker and
 * checkpoint-store ids, and the checkpoint ids made of them (RUN@N). It
 * lives in base because the storage layer checks run ids it reads from
 * files, the graph layer executor ids and the engine resume targets. */
#ifndef CAIRN_IDS_H_INCLUDED
#define CAIRN_IDS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when id matches [A-Za-z0-9_-]{1,64}. */
bool
cairn__valid_id(const char *id);

/* Splits "RUN@N" into run id and superstep; false when malformed (the
 * run id breaks the rule above, N is not a decimal superstep). */
bool
cairn__checkpoint_id_parse(const char *id, char *run_id, size_t run_id_size,
                           uint64_t *superstep);

#endif
