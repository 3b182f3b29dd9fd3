/* log_internal.h - what the engine's process setup needs from log.c. */
#ifndef CAIRN_LOG_INTERNAL_H_INCLUDED
#define CAIRN_LOG_INTERNAL_H_INCLUDED

/* Routes czmq's log lines into the cairn log sink (module "czmq"),
 * dropping what they quote, instead of czmq's default of stdout. Call
 * after zsys_init(), once per process, before other threads use czmq. */
void
cairn__log_capture_czmq(void);

#endif
