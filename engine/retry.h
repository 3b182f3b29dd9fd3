/* retry.h - the arithmetic of retry policies (workflow.h). */
#ifndef CAIRN_RETRY_H_INCLUDED
#define CAIRN_RETRY_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "cairn/workflow.h"

/* Whether a failure of kind (CAIRN_RETRY_ON_*) on attempt `failed`
 * (1-based) is retried under policy. */
bool cairn__retry_allows(const cairn_retry_policy_t *policy, uint32_t failed,
                         uint32_t kind);

/* The delay before the attempt after `failed`: backoff_ms doubled for
 * each earlier retry, capped at max_backoff_ms, then a uniformly random
 * 50-100 % of that (so retries of many runs do not arrive together). */
uint64_t cairn__retry_delay_ms(const cairn_retry_policy_t *policy,
                               uint32_t failed);

#endif
