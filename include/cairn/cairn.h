/* cairn.h - umbrella header of the cairn durable workflow engine. */
#ifndef CAIRN_CAIRN_H_INCLUDED
#define CAIRN_CAIRN_H_INCLUDED

#define CAIRN_VERSION_MAJOR 0
#define CAIRN_VERSION_MINOR 1
#define CAIRN_VERSION_PATCH 0

#include "common.h"
#include "error.h"
#include "log.h"
#include "message.h"
#include "context.h"
#include "registry.h"
#include "workflow.h"
#include "control.h"
#include "engine.h"
#include "store.h"
#include "events.h"
#include "builtins.h"
#include "spec.h"
#include "plugin.h"
#include "worker.h"
#include "curve.h"

#endif
