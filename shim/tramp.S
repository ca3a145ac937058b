/* SPDX-License-Identifier: Apache-2.0 */
/* Trampolines for designated entry symbols, and the exported dlopen.
 *
 * A patched GOT slot points at shim_sym_tramp_<i>. Once the call of
 * symbol i has been recorded in "first" mode, shim_sym_done[i] is set
 * and the trampoline costs a byte compare and an indirect jump. Other-
 * wise shim_sym_slow saves every argument register (integer, %rax for
 * the vector count of varargs, %r10 for a static chain, %xmm0-7), calls
 * shim_symbol_hit(i), restores them and jumps to the real function: the
 * caller's stack and return address are left as they were, so stack
 * arguments and return values pass through and the shadow stack (CET)
 * sees an ordinary call. Upper halves of %ymm/%zmm are not saved. */

#define SHIM_SYM_FRAME 200 /* 9 GPRs, 8 XMMs; keeps %rsp 16-aligned */

    .hidden shim_sym_done
    .hidden shim_sym_real
    .hidden shim_sym_active
    .hidden shim_dlopen_real
    .hidden shim_symbol_hit
    .hidden shim_dlopen_hook
    .globl shim_sym_tramps
    .hidden shim_sym_tramps

    .text
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .balign 16
    .type shim_sym_tramp_\i, @function
shim_sym_tramp_\i:
    endbr64
    cmpb $0, shim_sym_done+\i(%rip)
    je 1f
    jmp *shim_sym_real+8*\i(%rip)
1:
    movl $\i, %r11d
    jmp shim_sym_slow
    .size shim_sym_tramp_\i, .-shim_sym_tramp_\i
    .endr

    .balign 16
    .type shim_sym_slow, @function
shim_sym_slow:
    .cfi_startproc
    subq $SHIM_SYM_FRAME, %rsp
    .cfi_adjust_cfa_offset SHIM_SYM_FRAME
    movq %rdi, 0(%rsp)
    movq %rsi, 8(%rsp)
    movq %rdx, 16(%rsp)
    movq %rcx, 24(%rsp)
    movq %r8, 32(%rsp)
    movq %r9, 40(%rsp)
    movq %rax, 48(%rsp)
    movq %r10, 56(%rsp)
    movq %r11, 64(%rsp)
    movdqu %xmm0, 72(%rsp)
    movdqu %xmm1, 88(%rsp)
    movdqu %xmm2, 104(%rsp)
    movdqu %xmm3, 120(%rsp)
    movdqu %xmm4, 136(%rsp)
    movdqu %xmm5, 152(%rsp)
    movdqu %xmm6, 168(%rsp)
    movdqu %xmm7, 184(%rsp)
    movl %r11d, %edi
    call shim_symbol_hit
    movdqu 72(%rsp), %xmm0
    movdqu 88(%rsp), %xmm1
    movdqu 104(%rsp), %xmm2
    movdqu 120(%rsp), %xmm3
    movdqu 136(%rsp), %xmm4
    movdqu 152(%rsp), %xmm5
    movdqu 168(%rsp), %xmm6
    movdqu 184(%rsp), %xmm7
    movq 0(%rsp), %rdi
    movq 8(%rsp), %rsi
    movq 16(%rsp), %rdx
    movq 24(%rsp), %rcx
    movq 32(%rsp), %r8
    movq 40(%rsp), %r9
    movq 48(%rsp), %rax
    movq 64(%rsp), %r11
    leaq shim_sym_real(%rip), %r10
    movq (%r10,%r11,8), %r11
    movq 56(%rsp), %r10
    addq $SHIM_SYM_FRAME, %rsp
    .cfi_adjust_cfa_offset -SHIM_SYM_FRAME
    jmp *%r11
    .cfi_endproc
    .size shim_sym_slow, .-shim_sym_slow

/* dlopen: straight to the real one (a tail jump, so glibc still sees the
 * program as the caller) unless symbols are active or the real dlopen
 * is not resolved yet (called before our constructor). */
    .globl dlopen
    .type dlopen, @function
    .balign 16
dlopen:
    endbr64
    movq shim_dlopen_real(%rip), %r11
    testq %r11, %r11
    jz 1f
    cmpb $0, shim_sym_active(%rip)
    jne 1f
    jmp *%r11
1:
    jmp shim_dlopen_hook
    .size dlopen, .-dlopen

    .section .data.rel.ro,"aw"
    .balign 8
    .type shim_sym_tramps, @object
shim_sym_tramps:
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad shim_sym_tramp_\i
    .endr
    .size shim_sym_tramps, .-shim_sym_tramps

    .section .note.GNU-stack,"",@progbits

/* GNU_PROPERTY_X86_FEATURE_1_AND: IBT (1) | SHSTK (2), so that linking
 * this object keeps libkest.so marked for CET. */
    .section .note.gnu.property,"a"
    .balign 8
    .long 4
    .long 16
    .long 5
    .asciz "GNU"
    .long 0xc0000002
    .long 4
    .long 3
    .balign 8
