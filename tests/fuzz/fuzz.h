/* fuzz.h - what every fuzz target defines, and small helpers they share.
 *
 * Each tests/fuzz/fuzz_<target>.c defines the two libFuzzer entry
 * points. With CAIRN_FUZZ=ON (clang) they are linked against libFuzzer;
 * in the normal build they are linked with replay.c, a main() that feeds
 * every file of the seed corpus and of tests/fuzz/regressions/ through
 * the same functions, so the targets cannot rot and a crash found once
 * stays fixed.
 *
 * A target never asserts on the library's answer: any return code is
 * fine. What it must not do is crash, leak, or trip a sanitizer; the
 * targets walk every byte of what decoded so ASan sees bad pointers.
 */
#ifndef CAIRN_FUZZ_H_INCLUDED
#define CAIRN_FUZZ_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Setup failed: the harness is broken, not the input. */
#define FUZZ_REQUIRE(cond)                                                     \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: fuzz setup failed: %s\n", __FILE__,        \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* Reads every byte so ASan checks the whole range; the result is only
 * there so the compiler cannot drop the loop. */
static inline unsigned
fuzz_touch(const void *data, size_t len)
{
    const volatile uint8_t *p = data;
    unsigned sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += p[i];
    return sum;
}

/* A string from a decoded message must be NUL-terminated in bounds. */
static inline unsigned
fuzz_touch_str(const char *s)
{
    return s ? fuzz_touch(s, __builtin_strlen(s) + 1) : 0;
}

#endif
