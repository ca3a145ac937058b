/* SPDX-License-Identifier: Apache-2.0 */
/* Designated entry symbols (KEST_SYMBOLS): GOT/PLT slots that name one
 * of them are pointed at a trampoline (shim/tramp.S) that records the
 * call, then jumps to the real function; an internal function of the
 * executable has its entry patched instead (shim/inline.c), in the
 * constructor, before main: a symbol is never patched later. Nothing
 * here is exported. */
#ifndef KEST_SHIM_SYMBOLS_H
#define KEST_SHIM_SYMBOLS_H

#include <stdbool.h>

/* Trampolines available; names past this many are reported and left. */
#define SHIM_SYM_MAX 32

/* The next dlopen (libc's), set by shim_symbols_init. */
extern void *(*shim_dlopen_real)(const char *, int);

/* From the constructor: resolve the real dlopen, read KEST_SYMBOLS and
 * KEST_SYMBOLS_MODE, and patch every object loaded so far. Never fails
 * the host: problems are reported under KEST_DEBUG. */
void shim_symbols_init(void);
/* From the constructor once it may record: one call record, with method
 * "refused:<reason>", for each internal function that was found but
 * whose entry could not be patched safely. */
void shim_symbols_gaps(void);
/* Called by trampoline index (registers saved) before the real function
 * runs: decides whether this call is recorded and records it. */
void shim_symbol_hit(int index);
/* dlopen, when symbols are active or dlopen ran before the constructor:
 * the real dlopen, then a patch pass over any object it brought in. */
void *shim_dlopen_hook(const char *file, int mode);

/* In shim/shim.c. True when a call may be recorded in process now: no
 * re-entry, set up, not a vfork child or threaded fork child. */
bool shim_call_ok(void);
/* Record one call of symbol (defined in object) through the engine;
 * failures end as a gap record or a warning, never in the caller. */
void shim_record_call(const char *symbol, const char *object,
                      const char *mode, const char *method);

#endif
