/* retry.c - when a failed attempt is retried, and after how long. */
#include <sodium.h>

#include "engine/retry.h"

bool
cairn__retry_allows(const cairn_retry_policy_t *policy, uint32_t failed,
                    uint32_t kind)
{
    if (failed >= policy->max_attempts)
        return false;
    return policy->on == 0 || (policy->on & kind) != 0;
}

bool
cairn__retry_allows_loss(const cairn_retry_policy_t *policy, uint32_t failed)
{
    uint32_t attempts = policy->max_attempts > 1 ? policy->max_attempts
                                                 : CAIRN__LOSS_ATTEMPTS;
    return failed < attempts;
}

uint64_t
cairn__retry_delay_ms(const cairn_retry_policy_t *policy, uint32_t failed)
{
    uint64_t delay = policy->backoff_ms;
    for (uint32_t i = 1; i < failed && delay < UINT32_MAX; i++)
        delay *= 2;
    if (policy->max_backoff_ms && delay > policy->max_backoff_ms)
        delay = policy->max_backoff_ms;
    if (delay < 2)
        return delay;
    uint64_t half = delay / 2;
    return delay - half
           + randombytes_uniform(
               (uint32_t)(half > UINT32_MAX - 1 ? UINT32_MAX - 1 : half) + 1);
}
