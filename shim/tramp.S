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

/* Inline hooks (shim/inline.c): the patched entry of an internal function
 * jumps, through a stub near the code, to shim_inl_tramp_<i>. The callee
 * is a local function whose callers may keep values in any register the
 * compiler saw it leave alone (-fipa-ra), so shim_inl_slow keeps every
 * general register, the flags and, with XSAVE, the x87/SSE/AVX/AVX-512
 * state (without it, %xmm0-15), not only the argument registers.
 * The index travels on the stack (below the caller's frame, which the
 * callee owns at entry), and call/ret stay paired for the shadow stack.
 * shim_sym_real[i] then leads to the relocated prologue. */
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .balign 16
    .type shim_inl_tramp_\i, @function
shim_inl_tramp_\i:
    endbr64
    cmpb $0, shim_sym_done+\i(%rip)
    jne 1f
    pushq $\i
    call shim_inl_slow
    leaq 8(%rsp), %rsp
1:
    jmp *shim_sym_real+8*\i(%rip)
    .size shim_inl_tramp_\i, .-shim_inl_tramp_\i
    .endr

#define SHIM_INL_XMM 256 /* %xmm0-15 */
/* XSAVE components kept: x87, SSE, AVX, AVX-512 (opmask, upper ZMM). */
#define SHIM_INL_XMASK 0xe7

    .hidden shim_inl_xsave_size
    .balign 16
    .type shim_inl_slow, @function
shim_inl_slow:
    pushfq
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %rbx
    movq %rsp, %rbx
    cld
    movl shim_inl_xsave_size(%rip), %eax
    testl %eax, %eax
    jz 3f
    /* XSAVE area, 64-aligned; XRSTOR faults unless its header is zero
     * past XSTATE_BV, and XSAVE writes only XSTATE_BV. */
    subq %rax, %rsp
    andq $-64, %rsp
    xorl %eax, %eax
    movq %rax, 512(%rsp)
    movq %rax, 520(%rsp)
    movq %rax, 528(%rsp)
    movq %rax, 536(%rsp)
    movq %rax, 544(%rsp)
    movq %rax, 552(%rsp)
    movq %rax, 560(%rsp)
    movq %rax, 568(%rsp)
    movl $SHIM_INL_XMASK, %eax
    xorl %edx, %edx
    xsave64 (%rsp)
    movl 96(%rbx), %edi /* above 11 pushes and the return address */
    call shim_symbol_hit
    movl $SHIM_INL_XMASK, %eax
    xorl %edx, %edx
    xrstor64 (%rsp)
    jmp 4f
3:
    andq $-16, %rsp
    subq $SHIM_INL_XMM, %rsp
    movdqu %xmm0, 0(%rsp)
    movdqu %xmm1, 16(%rsp)
    movdqu %xmm2, 32(%rsp)
    movdqu %xmm3, 48(%rsp)
    movdqu %xmm4, 64(%rsp)
    movdqu %xmm5, 80(%rsp)
    movdqu %xmm6, 96(%rsp)
    movdqu %xmm7, 112(%rsp)
    movdqu %xmm8, 128(%rsp)
    movdqu %xmm9, 144(%rsp)
    movdqu %xmm10, 160(%rsp)
    movdqu %xmm11, 176(%rsp)
    movdqu %xmm12, 192(%rsp)
    movdqu %xmm13, 208(%rsp)
    movdqu %xmm14, 224(%rsp)
    movdqu %xmm15, 240(%rsp)
    movl 96(%rbx), %edi
    call shim_symbol_hit
    movdqu 0(%rsp), %xmm0
    movdqu 16(%rsp), %xmm1
    movdqu 32(%rsp), %xmm2
    movdqu 48(%rsp), %xmm3
    movdqu 64(%rsp), %xmm4
    movdqu 80(%rsp), %xmm5
    movdqu 96(%rsp), %xmm6
    movdqu 112(%rsp), %xmm7
    movdqu 128(%rsp), %xmm8
    movdqu 144(%rsp), %xmm9
    movdqu 160(%rsp), %xmm10
    movdqu 176(%rsp), %xmm11
    movdqu 192(%rsp), %xmm12
    movdqu 208(%rsp), %xmm13
    movdqu 224(%rsp), %xmm14
    movdqu 240(%rsp), %xmm15
4:
    movq %rbx, %rsp
    popq %rbx
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rax
    popfq
    ret
    .size shim_inl_slow, .-shim_inl_slow

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

    .globl shim_inl_tramps
    .hidden shim_inl_tramps
    .balign 8
    .type shim_inl_tramps, @object
shim_inl_tramps:
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad shim_inl_tramp_\i
    .endr
    .size shim_inl_tramps, .-shim_inl_tramps

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
