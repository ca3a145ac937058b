# SPDX-License-Identifier: Apache-2.0
# Designated internal functions of the executable (KEST_SYMBOLS naming a
# static or non-exported function found through .symtab): the entry is
# patched inline in PIE, non-PIE and CET-marked programs; prologues that
# cannot be relocated safely are refused with a record; a stripped
# program runs untouched. The programs are never modified after linking.
. "$(dirname "$0")/shimlib.sh"

S=$T/src
B=$T/bin
mkdir "$S" "$B"
cat >"$S/main.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tiny_rip(int);
int tiny_loop(int, int);
int tiny_short(int);
int tiny_jmp(int);
int lea_fn(int);
int mov_fn(int);
int tiny_call(int);

static double __attribute__((noinline, used))
weigh(int a, long b, double c, const char *s, double d, int e, int f,
      float g)
{
    return a * 3.0 + b * 0.5 + c * d + s[0] + s[1] + e * 7 + f * 11 + g;
}

static int __attribute__((noinline, used)) step(int x)
{
    int y = x * x * 7 + (x ^ 0x55);

    return y * 3 + (y >> 2);
}

static int __attribute__((noinline, used)) other(int x)
{
    int y = x * 5 + (x ^ 0x33);

    return y * 9 - (y >> 3);
}

static long __attribute__((noinline, used)) walk(long n, long acc)
{
    long k = n * 3 + acc;

    if (n <= 0) {
        return k;
    }
    return walk(n - 1, k ^ (k >> 3)) + walk(n - 2, k) * 2;
}

/* Filled at link time: the pointers predate any hook. */
static int (*const table[2])(int) = {step, other};

static int maps_have(const char *what)
{
    char line[512];
    FILE *f = fopen("/proc/self/maps", "r");
    int found = 0;

    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        found |= strstr(line, what) != NULL;
    }
    if (f != NULL) {
        fclose(f);
    }
    return found;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3;
    volatile int pick = argc > 5;
    double w = 0;
    long t = 0;

    if (argc > 2 && strcmp(argv[2], "maps") == 0) {
        printf("capstone %s\n", maps_have("libcapstone") ? "yes" : "no");
        return 0;
    }
    for (int i = 0; i < n; i++) {
        w += weigh(i, 2 * i, 3.5, "AB", 0.25 * i, i + 1, 7, 1.5f);
        t += table[pick](i) + table[!pick](i);
        t += tiny_rip(i) + tiny_loop(i, 3) + tiny_short(i) + tiny_jmp(i);
        t += lea_fn(i % 4) + mov_fn(i) + tiny_call(i);
    }
    t += walk(n, 1);
    printf("weigh %.4f total %ld\n", w, t);
    return (int)(t & 0x3f);
}
C
# Prologues that must be refused, and rip-relative operands that are
# rewritten. Each has its .size, as compilers emit it.
cat >"$S/tiny.S" <<'S'
    .data
acc: .long 0
msg: .ascii "kest"
fnptr: .quad tiny_short
base: .long 1000
    .text
    .globl tiny_rip, tiny_loop, tiny_short, tiny_jmp, lea_fn, mov_fn
    .globl tiny_call
    .type tiny_rip, @function
tiny_rip:                       /* rip-relative add: rewritten */
    addl %edi, acc(%rip)
    movl acc(%rip), %eax
    ret
    .size tiny_rip, .-tiny_rip
    .type tiny_loop, @function
tiny_loop:                      /* a loop back into the first bytes */
    xorl %eax, %eax
1:  addl %edi, %eax
    decl %esi
    jnz 1b
    ret
    .size tiny_loop, .-tiny_loop
    .type tiny_short, @function
tiny_short:                     /* 3 bytes: no room for a jump */
    movl %edi, %eax
    ret
    .size tiny_short, .-tiny_short
    .type tiny_jmp, @function
tiny_jmp:                       /* an indirect rip-relative jmp */
    jmp *fnptr(%rip)
    .size tiny_jmp, .-tiny_jmp
    .type lea_fn, @function
lea_fn:                         /* rip-relative lea: rewritten */
    leaq msg(%rip), %rax
    movsbl (%rax,%rdi), %eax
    ret
    .size lea_fn, .-lea_fn
    .type mov_fn, @function
mov_fn:                         /* rip-relative mov load: rewritten */
    movl base(%rip), %eax
    addl %edi, %eax
    ret
    .size mov_fn, .-mov_fn
    .type tiny_call, @function
tiny_call:                      /* a relative call in the first bytes */
    call tiny_short
    addl $1, %eax
    ret
    .size tiny_call, .-tiny_call
    .section .note.GNU-stack,"",@progbits
S
cc -O2 -fPIE -pie -o "$B/pie" "$S/main.c" "$S/tiny.S"
cc -O2 -fno-pie -no-pie -o "$B/nopie" "$S/main.c" "$S/tiny.S"
cc -O2 -fPIE -pie -fcf-protection -o "$B/cet" "$S/main.c" "$S/tiny.S"
cc -O2 -fPIE -pie -s -o "$B/stripped" "$S/main.c" "$S/tiny.S"

# calls SYMBOL [METHOD]: call records of SYMBOL (with METHOD) in $LOG
calls() {
    [ -s "$LOG" ] || { echo 0; return; }
    q '[.[] | select(.operation == "call") | select(.call.symbol == $s)
        | select($m == "" or .call.method == $m)] | length' \
        --arg s "$1" --arg m "${2:-}"
}

check_eq "capstone is not a load-time dependency of libkest.so" 0 \
    "$(readelf -d "$SHIM" | grep -c capstone)"
NAMES=weigh,step,tiny_rip,tiny_loop,tiny_short,tiny_jmp,lea_fn,mov_fn
NAMES=$NAMES,tiny_call,walk,nosuch_fn

for prog in pie nopie cet; do
    P=$B/$prog
    export KEST_SYMBOLS=$NAMES
    unset KEST_SYMBOLS_MODE
    same "$prog: first mode" "$P" 5
    check "$prog: kest verify passes" verify_ok
    check_eq "$prog: weigh recorded once, inline" 1 "$(calls weigh inline)"
    check_eq "$prog: step, called through a table, once" 1 \
        "$(calls step inline)"
    check_eq "$prog: rip-relative lea rewritten and hooked" 1 \
        "$(calls lea_fn inline)"
    check_eq "$prog: rip-relative mov rewritten and hooked" 1 \
        "$(calls mov_fn inline)"
    check_eq "$prog: recursive walk hooked" 1 "$(calls walk inline)"
    check_eq "$prog: other (not designated) not recorded" 0 \
        "$(calls other)"
    check_eq "$prog: nothing for a missing name" 0 "$(calls nosuch_fn)"
    check_eq "$prog: the call block" "weigh|$P|first|inline" \
        "$(q '.[] | select(.call.symbol == "weigh") | .call
              | "\(.symbol)|\(.object)|\(.mode)|\(.method)"')"
    check_eq "$prog: rip-relative add rewritten and hooked" 1 \
        "$(calls tiny_rip inline)"
    check_eq "$prog: relative call in the prologue refused" 1 \
        "$(calls tiny_call refused:branch_in_prologue)"
    check_eq "$prog: jump into the prologue refused" 1 \
        "$(calls tiny_loop refused:jump_target_in_prologue)"
    check_eq "$prog: 3-byte function refused" 1 \
        "$(calls tiny_short refused:too_short)"
    check_eq "$prog: rip-relative jmp refused" 1 \
        "$(calls tiny_jmp refused:branch_in_prologue)"

    export KEST_SYMBOLS_MODE=every
    same "$prog: every mode" "$P" 6
    check "$prog: every mode verifies" verify_ok
    check_eq "$prog: weigh recorded 6 times" 6 "$(calls weigh inline)"
    check_eq "$prog: step recorded 6 times" 6 "$(calls step inline)"
    check_eq "$prog: mov_fn recorded 6 times" 6 "$(calls mov_fn inline)"
    check "$prog: recursive calls of walk recorded too" \
        test "$(calls walk inline)" -gt 1
    check_eq "$prog: a refused function still has one record" 1 \
        "$(calls tiny_loop)"
    check_eq "$prog: tiny_rip recorded 6 times" 6 "$(calls tiny_rip inline)"
    check_eq "$prog: mode recorded as every" every \
        "$(q '[.[] | select(.call.symbol == "weigh")][0].call.mode')"
    unset KEST_SYMBOLS_MODE

    export KEST_SYMBOLS=nosuch_fn
    check_eq "$prog: capstone not loaded for a missing name" \
        "capstone no" "$(under "$P" 1 maps)"
    export KEST_SYMBOLS=step
    check_eq "$prog: capstone loaded for an internal name" \
        "capstone yes" "$(under "$P" 1 maps)"
    unset KEST_SYMBOLS
done

# Threads started by main call a hooked function at the same time; the
# hooks were installed before main, so every call is seen.
cat >"$S/thr.c" <<'C'
#include <pthread.h>
#include <stdio.h>

static long __attribute__((noinline, used)) churn(long x, double y)
{
    long k = x * 31 + (long)(y * 4);

    return k ^ (k >> 5);
}

static void *run(void *arg)
{
    long t = 0, id = (long)arg;

    for (long i = 0; i < 5; i++) {
        t += churn(id * 100 + i, 0.5 * i);
    }
    return (void *)t;
}

int main(void)
{
    pthread_t th[4];
    long sum = 0;

    for (long i = 0; i < 4; i++) {
        pthread_create(&th[i], NULL, run, (void *)i);
    }
    for (int i = 0; i < 4; i++) {
        void *r;

        pthread_join(th[i], &r);
        sum += (long)r;
    }
    printf("sum %ld\n", sum);
    return 0;
}
C
cc -O2 -fPIE -pie -pthread -o "$B/thr" "$S/thr.c"
export KEST_SYMBOLS=churn KEST_SYMBOLS_MODE=every
same "threads: every mode" "$B/thr"
check "threads: verifies" verify_ok
check_eq "threads: 4 threads x 5 calls recorded" 20 "$(calls churn inline)"
export KEST_SYMBOLS_MODE=first
same "threads: first mode" "$B/thr"
check_eq "threads: one record in first mode" 1 "$(calls churn inline)"
unset KEST_SYMBOLS KEST_SYMBOLS_MODE

# The hook keeps registers a caller of a local function may rely on
# (-fipa-ra): keep_fn touches nothing; keep_check loads every caller-
# saved register, %xmm8-15 and the upper half of %ymm8 (with AVX2),
# calls it and counts the registers that changed.
cat >"$S/keep.S" <<'S'
    .text
    .globl keep_fn, keep_check
    .type keep_fn, @function
keep_fn:
    nop
    nop
    nop
    nop
    nop
    nop
    ret
    .size keep_fn, .-keep_fn
    .type keep_check, @function
keep_check:                     /* int keep_check(int avx2) */
    pushq %rbx
    pushq %r12
    movl %edi, %r12d
    movl $0x1111, %eax
    movq %rax, %xmm8
    movl $0x2222, %eax
    movq %rax, %xmm15
    testl %r12d, %r12d
    jz 1f
    vpbroadcastq %xmm8, %ymm8
1:  movl $1, %eax
    movl $2, %ecx
    movl $3, %edx
    movl $4, %esi
    movl $5, %edi
    movl $6, %r8d
    movl $7, %r9d
    movl $8, %r10d
    movl $9, %r11d
    call keep_fn
    xorl %ebx, %ebx
    cmpq $1, %rax
    setne %bl
    cmpq $2, %rcx
    jne 2f
    cmpq $3, %rdx
    jne 2f
    cmpq $4, %rsi
    jne 2f
    cmpq $5, %rdi
    jne 2f
    cmpq $6, %r8
    jne 2f
    cmpq $7, %r9
    jne 2f
    cmpq $8, %r10
    jne 2f
    cmpq $9, %r11
    je 3f
2:  addl $1, %ebx
3:  movq %xmm8, %rax
    cmpq $0x1111, %rax
    je 4f
    addl $1, %ebx
4:  movq %xmm15, %rax
    cmpq $0x2222, %rax
    je 5f
    addl $1, %ebx
5:  testl %r12d, %r12d
    jz 6f
    vextracti128 $1, %ymm8, %xmm0
    movq %xmm0, %rax
    vzeroupper
    cmpq $0x1111, %rax
    je 6f
    addl $1, %ebx
6:  movl %ebx, %eax
    popq %r12
    popq %rbx
    ret
    .size keep_check, .-keep_check
    .section .note.GNU-stack,"",@progbits
S
cat >"$S/keep.c" <<'C'
#include <stdio.h>

int keep_check(int);

int main(void)
{
    int avx2 = __builtin_cpu_supports("avx2");
    int bad = 0;

    for (int i = 0; i < 3; i++) {
        bad += keep_check(avx2);
    }
    printf("registers changed: %d\n", bad);
    return bad != 0;
}
C
cc -O2 -o "$B/keep" "$S/keep.c" "$S/keep.S"
export KEST_SYMBOLS=keep_fn KEST_SYMBOLS_MODE=every
same "registers: every mode" "$B/keep"
check_eq "registers: keep_fn recorded 3 times" 3 "$(calls keep_fn inline)"
check_eq "registers: kept across the hook" "registers changed: 0" \
    "$(under "$B/keep")"
unset KEST_SYMBOLS KEST_SYMBOLS_MODE

# A stripped program: no .symtab, so the names are not found; it runs
# as without kest and nothing is recorded.
export KEST_SYMBOLS=weigh,step
same "stripped: runs normally" "$B/stripped" 4
check_not "stripped: no log" test -e "$LOG"
out=$(under env KEST_DEBUG=1 "$B/stripped" 1 2>&1)
check "stripped: reported as not found" \
    grep -q "symbol not found: weigh$" <<<"$out"
unset KEST_SYMBOLS

# Started as "ld.so prog", /proc/self/exe is the loader, not the
# program: its .symtab must not be used for the program's addresses.
LDSO=$(readelf -l "$B/pie" | sed -n 's/.*interpreter: \(.*\)]/\1/p')
export KEST_SYMBOLS=weigh,step
same "ld.so prog: runs normally" "$LDSO" "$B/pie" 3
check_eq "ld.so prog: nothing hooked inline" 0 "$(calls weigh)"
unset KEST_SYMBOLS

# Diagnostics under KEST_DEBUG.
out=$(under env KEST_DEBUG=1 KEST_SYMBOLS=weigh,tiny_short "$B/cet" 1 2>&1)
check "debug: weigh hooked inline" grep -q "hooked (inline) weigh" <<<"$out"
check "debug: tiny_short refused with its reason" \
    grep -q "inline hook refused for tiny_short (too_short)" <<<"$out"

# Without KEST_SYMBOLS nothing changes and nothing is recorded.
same "no KEST_SYMBOLS" "$B/pie" 2
check_not "no KEST_SYMBOLS: no log" test -s "$LOG"

finish
