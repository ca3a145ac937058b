/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the libFuzzer targets: the entry points and small helpers. */
#ifndef KEST_FUZZ_H
#define KEST_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A NUL-terminated copy of the input (malloc'd; abort on failure, which
 * libFuzzer reports as a crash rather than hiding it). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s == NULL) {
        abort();
    }
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Stop the run with a crash report when an invariant does not hold. */
#define FUZZ_ASSERT(c) ((c) ? (void)0 : abort())

#endif
