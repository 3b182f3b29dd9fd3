/* curve.h - CURVE on the coordinator's listen endpoint and on a worker's
 * connection (internal).
 *
 * The coordinator's ROUTER takes CURVE only on the endpoint workers use:
 * the server options are set after the inproc endpoint is bound and
 * before the listen endpoint is (ZeroMQ snapshots them per endpoint, and
 * inproc never runs a security handshake), so in-process hosts pay
 * nothing. zauth answers the ZAP requests from the allow directory; a
 * socket monitor thread reports refused handshakes, since zauth tells no
 * one.
 */
#ifndef CAIRN_ENGINE_CURVE_H_INCLUDED
#define CAIRN_ENGINE_CURVE_H_INCLUDED

#include <czmq.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "cairn/error.h"

typedef struct cairn__curve_server_t cairn__curve_server_t;

/* Loads a czmq certificate from path into *cert; with need_secret, the
 * file must hold a secret key. CAIRN_EINVAL with err naming the file when
 * it is missing, unreadable or not a certificate. */
int cairn__curve_load(const char *path, bool need_secret, zcert_t **cert,
                      cairn_error_t *err);

/* Makes router a CURVE server with the secret key in secret_path, only
 * letting in clients whose public key is in allow_dir (czmq certificate
 * files; re-read when the directory changes). Call after binding inproc
 * and before binding the listen endpoint. Starts the ZAP handler and a
 * monitor thread that logs each refused handshake (with the peer's
 * address when known) and counts it in *refused. listen names the
 * endpoint in the logs. One such server per process at a time (zauth
 * owns the process's ZAP endpoint): CAIRN_ESTATE for a second one.
 * 0, CAIRN_EINVAL (bad key file or directory, err naming it),
 * CAIRN_ESTATE or CAIRN_ETRANSPORT. */
int cairn__curve_server_start(cairn__curve_server_t **out, zsock_t *router,
                              const char *secret_path, const char *allow_dir,
                              const char *listen, _Atomic uint64_t *refused,
                              cairn_error_t *err);

/* Stops the ZAP handler and the monitor; NULL is fine. Call before the
 * router is destroyed. */
void cairn__curve_server_stop(cairn__curve_server_t **self_p);

/* Makes dealer a CURVE client with the secret key in secret_path,
 * expecting the server key in server_key_path (a certificate file; its
 * public key is used). Call before connecting. 0 or CAIRN_EINVAL with err
 * naming the bad file. */
int cairn__curve_client_apply(zsock_t *dealer, const char *secret_path,
                              const char *server_key_path, cairn_error_t *err);

/* Receives one event from a ZeroMQ socket monitor's PAIR socket: true
 * with *event and *value set when it is well formed, false (the message
 * dropped) otherwise. */
bool cairn__monitor_event_recv(zsock_t *monitor, uint16_t *event,
                               uint32_t *value);

/* Describes a handshake failure event of a ZeroMQ socket monitor (event
 * and value as the monitor reports them) in words, into buf. */
const char *cairn__curve_describe_failure(uint16_t event, uint32_t value,
                                          char *buf, size_t size);

#endif
