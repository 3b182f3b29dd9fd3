/* curve.h - CURVE key pairs for workers and coordinators.
 *
 * A coordinator listening on TCP can require CURVE (ZeroMQ's elliptic
 * curve encryption and authentication): it holds a secret key, and only
 * workers whose public keys are in its allow directory may connect
 * (cairn_engine_options_t.curve_secret / allow_keys). A worker holds its
 * own secret key and the coordinator's public key
 * (cairn_worker_options_t.curve_secret / server_key). Key files are czmq
 * certificates (ZPL text with a "curve" section holding Z85 keys).
 */
#ifndef CAIRN_CURVE_H_INCLUDED
#define CAIRN_CURVE_H_INCLUDED

#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Makes a fresh key pair in dir (created, mode 0700, when missing):
 * dir/key holds the public and secret keys (mode 0600), dir/key.pub the
 * public key only, the file to hand to the other side. Refuses to
 * overwrite an existing dir/key or dir/key.pub. 0, CAIRN_EEXISTS, or
 * CAIRN_EINVAL (dir or the files cannot be made), err naming the path. */
CAIRN_EXPORT int cairn_curve_keygen(const char *dir,
                                    cairn_error_t *err) CAIRN_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
