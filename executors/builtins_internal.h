/* builtins_internal.h - what the families of built-in executor types
 * share (executors/builtin_*.c): reading a config, sending a payload on,
 * and each family's types for cairn_builtins_register() (builtins.c).
 *
 * Nothing here keeps state: every function works on its arguments only
 * and is safe from any thread.
 */
#ifndef CAIRN_BUILTINS_INTERNAL_H_INCLUDED
#define CAIRN_BUILTINS_INTERNAL_H_INCLUDED

#include <jansson.h>

#include "cairn/context.h"
#include "cairn/error.h"
#include "cairn/registry.h"

#define CAIRN__MAX_MS ((int64_t)86400000) /* one day: longest sleep / timeout  \
                                           */

/* A config being read by one type's init. */
typedef struct {
    const char *type; /* type name, first word of every error */
    json_t *root;     /* owned; the config object */
} cairn__config_t;

/* The config keys built-in type `type` accepts (NULL-terminated; empty
 * for a type without config), from the one table in builtin_config.c
 * that both validation (cairn__config_open) and the registry's
 * declaration (cairn_registry_config_keys, `cairn types`) read. */
const char *const *cairn__builtin_config_keys(const char *type);

/* Registers the config keys of every built-in type registry holds. */
int cairn__builtin_config_keys_declare(cairn_registry_t *registry);

/* Parses config as a JSON object whose members are all config keys of
 * built-in type `type` (cairn__builtin_config_keys). */
int cairn__config_open(cairn__config_t *self, const char *type,
                       const uint8_t *config, size_t len, cairn_error_t *err);

void cairn__config_close(cairn__config_t *self);

/* Expands ${VAR} in a string value of field `what`; caller owns the
 * result in *out. */
int cairn__config_expand(const cairn__config_t *self, const char *what,
                         const char *text, char **out, cairn_error_t *err);

/* Reads string field name into *out (malloc'd, ${VAR} expanded). When the
 * field is absent, *out is a copy of fallback, or the field is required
 * when fallback is NULL. */
int cairn__config_string(const cairn__config_t *self, const char *name,
                         const char *fallback, char **out, cairn_error_t *err);

/* Reads integer field name (min..max) into *out; absent gives fallback,
 * or the field is required when required is set. */
int cairn__config_int(const cairn__config_t *self, const char *name,
                      bool required, int64_t fallback, int64_t min, int64_t max,
                      int64_t *out, cairn_error_t *err);

/* The instance of text.append (the suffix) and text.join (the
 * separator). */
typedef struct {
    char *text; /* owned, NUL-terminated, ${VAR} expanded */
    size_t len; /* strlen(text) */
} cairn__string_field_t;

void cairn__string_field_fini(void *instance);

/* Reads the one string field of text.append, text.join or hitl.approve
 * into a cairn__string_field_t instance. */
int cairn__string_field_init(const char *type, const char *field,
                             const char *fallback, void **instance,
                             const uint8_t *config, size_t len,
                             cairn_error_t *err);

/* Thread-safe description of an errno value. */
const char *cairn__errno_text(int errnum, char *buf, size_t size);

/* Sends data on along every edge with the incoming message's type tag. */
int cairn__send_on(cairn_ctx_t *ctx, const cairn_msg_t *msg, const void *data,
                   size_t len);

int cairn__forward(cairn_ctx_t *ctx, const cairn_msg_t *msg);

/* The families, in the order cairn_builtins_register() adds them. */
extern const cairn_executor_type_t cairn__builtins_text[]; /* text.* */
extern const size_t cairn__builtins_text_count;
/* count.inc, util.sleep, util.fail, util.crash */
extern const cairn_executor_type_t cairn__builtins_util[];
extern const size_t cairn__builtins_util_count;
/* util.exec as registered with allow_exec, and without it. */
extern const cairn_executor_type_t cairn__builtin_exec;
extern const cairn_executor_type_t cairn__builtin_exec_refused;
extern const cairn_executor_type_t cairn__builtin_approve; /* hitl.approve */

#endif
