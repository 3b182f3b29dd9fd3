/* peer_check.h - what the coordinator refuses in frames from its peers.
 *
 * Hosts (in-process threads and worker processes) are trusted to run the
 * handlers of the executors placed on them, nothing more: a worker that
 * may join (a listed CURVE key, or any local process on a loopback or
 * ipc endpoint without CURVE) must not be able to make anything only
 * the coordinator makes: answers to requests, fan-in composites, request
 * ids of other executors, effects on other executors. docs/protocol.md
 * ("Who may set what") lists every field and what happens to it; this
 * module holds the checks that are not plain routing (run, superstep,
 * attempt and placement are checked where Dones are collected).
 *
 * Pure functions over decoded envelopes; any thread.
 */
#ifndef CAIRN_PEER_CHECK_H_INCLUDED
#define CAIRN_PEER_CHECK_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "cairn.pb-c.h"

/* Why done, the Done of executor_id for superstep with `delivered`
 * messages handed to it, breaks the protocol, formatted into why (size
 * bytes, naming the field), or false when it does not. A host that sends
 * such a Done is not honest (or not this version of cairn): nothing of
 * the Done may be applied. */
bool
cairn__done_violation(const Cairn__Done *done, size_t delivered,
                      size_t max_message_size, char *why, size_t size);

/* Why hello cannot be taken (a worker id that is not an id), formatted
 * into why, or false when it can. */
bool
cairn__hello_violation(const Cairn__Hello *hello, char *why, size_t size);

#endif
