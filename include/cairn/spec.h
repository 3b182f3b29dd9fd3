/* spec.h - loading a JSON workflow spec into a workflow.
 *
 * The spec format is in docs/spec.md; the cairn command loads its specs
 * through these functions, so a C program (or a language binding) loads
 * exactly what `cairn run SPEC.json` would. Every error names the file,
 * the line and column (syntax) or the JSON path (e.g.
 * executors[2].config), and what was expected; the code is
 * CAIRN_EVALIDATION (CAIRN_ENOTFOUND when the file cannot be read).
 *
 * Threading: no shared state; safe to call from any thread with distinct
 * arguments (the registry is only read, so it must not be added to
 * meanwhile).
 */
#ifndef CAIRN_SPEC_H_INCLUDED
#define CAIRN_SPEC_H_INCLUDED

#include "common.h"
#include "engine.h"
#include "error.h"
#include "registry.h"
#include "workflow.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The checkpoint policy a spec asks for ("checkpoint": "every" |
 * "every:N" | "on-error" | "manual" | "none"); has_policy is false when the
 * spec does not say. */
typedef struct {
    bool has_policy;
    cairn_checkpoint_policy_t policy; /* "none": CAIRN_CHECKPOINT_NONE */
} cairn_spec_checkpoint_t;

/* Parses the spec text (what is the file name used in errors) and builds
 * the workflow over registry. Configs are passed on as compact JSON text,
 * ${VAR} left as written: executor types resolve them when they start
 * (cairn_expand_env), so secrets never reach the store or the signature.
 * On success *out is the workflow (caller owns the result) and
 * *checkpoint what the spec says about checkpoints (checkpoint may be
 * NULL). registry is borrowed and must outlive the workflow (as for
 * cairn_builder_new). */
CAIRN_EXPORT int
cairn_spec_load(const char *text, size_t len, const char *what,
                const cairn_registry_t *registry, cairn_workflow_t **out,
                cairn_spec_checkpoint_t *checkpoint, cairn_error_t *err)
    CAIRN_WARN_UNUSED;

/* What a spec may use beyond what the registry offers. */
typedef struct {
    bool worker_types; /* executor types the registry does not know: a run
                          that listens for workers waits for one offering
                          them (cairn_builder_allow_worker_types) */
} cairn_spec_options_t;

/* cairn_spec_load() with options (NULL: none). */
CAIRN_EXPORT int
cairn_spec_load_with(const char *text, size_t len, const char *what,
                     const cairn_registry_t *registry,
                     const cairn_spec_options_t *options,
                     cairn_workflow_t **out,
                     cairn_spec_checkpoint_t *checkpoint, cairn_error_t *err)
    CAIRN_WARN_UNUSED;

/* Reads path whole into *text (NUL-terminated; *len without the NUL):
 * a directory is CAIRN_ENOTFOUND, a file over 64 MiB CAIRN_ETOOLARGE.
 * Caller owns the result (free it with free()). */
CAIRN_EXPORT int
cairn_spec_read_file(const char *path, char **text, size_t *len,
                     cairn_error_t *err) CAIRN_WARN_UNUSED;

/* Replaces every ${NAME} in text with the environment variable NAME
 * (unset: CAIRN_ENOTFOUND naming it; malformed: CAIRN_EINVAL). Built-in
 * types apply it to their string config values when they start, so
 * secrets stay out of stored specs and signatures. Caller owns the
 * result in *out (free it with free()). */
CAIRN_EXPORT int
cairn_expand_env(const char *text, char **out, cairn_error_t *err)
    CAIRN_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
