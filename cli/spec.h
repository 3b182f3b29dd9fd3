/* spec.h - loading a JSON workflow spec into a builder.
 *
 * The spec format is in docs/spec.md. Every error names the file, the
 * line and column (syntax) or the JSON path (e.g. executors[2].config),
 * and what was expected; the code is CAIRN_EVALIDATION (CAIRN_ENOTFOUND
 * when the file cannot be read).
 */
#ifndef CAIRN_CLI_SPEC_H_INCLUDED
#define CAIRN_CLI_SPEC_H_INCLUDED

#include <cairn/cairn.h>

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
 * (cairn_expand_env), so secrets never reach the store or the signature. On success *out is the workflow (caller owns it) and
 * *checkpoint what the spec says about checkpoints (may be NULL). */
int
cairn_spec_load(const char *text, size_t len, const char *what,
                const cairn_registry_t *registry, cairn_workflow_t **out,
                cairn_spec_checkpoint_t *checkpoint, cairn_error_t *err);

/* What a spec may use beyond what the registry offers. */
typedef struct {
    bool worker_types; /* executor types the registry does not know: a run
                          that listens for workers waits for one offering
                          them (cairn_builder_allow_worker_types) */
} cairn_spec_options_t;

/* cairn_spec_load() with options (NULL: none). */
int
cairn_spec_load_with(const char *text, size_t len, const char *what,
                     const cairn_registry_t *registry,
                     const cairn_spec_options_t *options,
                     cairn_workflow_t **out,
                     cairn_spec_checkpoint_t *checkpoint, cairn_error_t *err);

/* Reads what fd holds, to its end, into *text (malloc'd, NUL-terminated;
 * *len without the NUL), refusing more than max bytes after reading at
 * most max + 1 (so an endless stream costs max, not memory without
 * bound). Returns 0, EISDIR for a directory, EFBIG when larger than max,
 * or the errno of a failed read / ENOMEM. For the cli only. */
int
cairn__read_fd(int fd, size_t max, char **text, size_t *len);

/* Reads path whole into a malloc'd buffer (NUL-terminated): a directory
 * or a file over 64 MiB is an error. */
int
cairn_spec_read_file(const char *path, char **text, size_t *len,
                     cairn_error_t *err);

#endif
