/* SPDX-License-Identifier: Apache-2.0 */
/* Inline hooks for internal functions of the executable: the entry is
 * overwritten with a jump, the displaced prologue is relocated next to
 * the code. Nothing here is exported. */
#ifndef KEST_SHIM_INLINE_H
#define KEST_SHIM_INLINE_H

enum shim_inl_rc {
    SHIM_INL_ABSENT,  /* no such function in the executable's .symtab */
    SHIM_INL_HOOKED,  /* the entry now jumps to the trampoline */
    SHIM_INL_REFUSED, /* found, but left alone; see *why */
};

/* Find name in the executable's .symtab and, if its prologue can be
 * relocated safely, make its entry jump to tramp; *real gets the
 * relocated prologue, which continues into the function. On refusal
 * *why gets a static reason (no spaces). Constructor only: the code is
 * rewritten while no other thread should run it. */
enum shim_inl_rc shim_inline_hook(const char *name, void *tramp,
                                  void **real, const char **why);
/* Release the executable's image and the disassembler (not the
 * trampolines, which stay in use). */
void shim_inline_end(void);

#endif
