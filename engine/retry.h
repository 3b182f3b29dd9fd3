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

/* Attempts an executor without a retry policy of its own (max_attempts
 * 1) gets when the worker running it is lost: a worker killed by an
 * operator or a network is retried like before, a handler that kills
 * every worker it runs on stops after this many. */
#define CAIRN__LOSS_ATTEMPTS 3

/* Whether attempt `failed` (1-based), ended by the loss of the worker
 * running it, is retried: while attempts are left under the policy's
 * max_attempts, or CAIRN__LOSS_ATTEMPTS when the policy has one attempt.
 * The policy's `on` is not consulted: a loss is neither an error the
 * handler reported nor a timeout. */
bool cairn__retry_allows_loss(const cairn_retry_policy_t *policy,
                              uint32_t failed);

/* The delay before the attempt after `failed`: backoff_ms doubled for
 * each earlier retry, capped at max_backoff_ms, then a uniformly random
 * 50-100 % of that (so retries of many runs do not arrive together). */
uint64_t cairn__retry_delay_ms(const cairn_retry_policy_t *policy,
                               uint32_t failed);

#endif
