# SPDX-License-Identifier: Apache-2.0
# Designated entry symbols (KEST_SYMBOLS): GOT/PLT redirection in the
# executable, in libraries and in objects dlopen'd later; first and
# every mode; arguments and return values untouched.
. "$(dirname "$0")/shimlib.sh"

S=$T/src
mkdir "$S"
cat >"$S/foo.c" <<'C'
#include <stdarg.h>
struct big { long a, b, c; };
double foo_mix(int a, long b, double c, float d, const char *s, int e,
               int f, double g, long h, double i9)
{
    return a + b + c + d + s[0] + e + f + g + h + i9;
}
struct big foo_big(long x)
{
    struct big r = {x, x * 2, x * 3};
    return r;
}
long foo_sum(int n, ...)
{
    va_list ap;
    double t = 0;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        t += va_arg(ap, double);
    }
    va_end(ap);
    return (long)(t * 1000);
}
C
cat >"$S/bar.c" <<'C'
double foo_mix(int, long, double, float, const char *, int, int, double,
               long, double);
double bar_call(int k)
{
    return foo_mix(k, 2, 3.5, 4.25f, "B", 6, 7, 8.125, 9, 10.5);
}
C
cat >"$S/plug.c" <<'C'
double foo_mix(int, long, double, float, const char *, int, int, double,
               long, double);
void app_entry(int);
double plug_run(int k)
{
    app_entry(k);
    return foo_mix(k, 0, 0.5, 0.25f, "P", 0, 0, 0.125, 0, 0.0);
}
C
cat >"$S/main.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
struct big { long a, b, c; };
double foo_mix(int, long, double, float, const char *, int, int, double,
               long, double);
struct big foo_big(long);
long foo_sum(int, ...);
double bar_call(int);
void app_entry(int k)
{
    printf("app_entry %d\n", k);
}
int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3;
    struct big b = foo_big(7);
    void *h;
    double (*run)(int);
    double (*mix)(int, long, double, float, const char *, int, int,
                  double, long, double);

    for (int i = 0; i < n; i++) {
        printf("%.4f\n", foo_mix(i, 2, 3.5, 4.25f, "A", 6, 7, 8.125, 9,
                                 10.5));
    }
    printf("bar %.4f\n", bar_call(5));
    printf("big %ld %ld %ld sum %ld\n", b.a, b.b, b.c,
           foo_sum(3, 1.5, 2.25, 3.125));
    h = dlopen(argc > 2 ? argv[2] : "libplug.so", RTLD_NOW);
    if (h == NULL) {
        printf("dlopen: %s\n", dlerror());
        return 2;
    }
    *(void **)&run = dlsym(h, "plug_run");
    printf("plug %.4f\n", run(4));
    *(void **)&mix = dlsym(RTLD_DEFAULT, "foo_mix");
    printf("dlsym %.4f\n", mix(1, 1, 1.0, 1.0f, "C", 1, 1, 1.0, 1, 1.0));
    return 7;
}
C
B=$T/bin
mkdir "$B"
cc -shared -fPIC -o "$B/libfoo.so" "$S/foo.c"
cc -shared -fPIC -o "$B/libbar.so" "$S/bar.c" -L"$B" -lfoo
cc -shared -fPIC -o "$B/libplug.so" "$S/plug.c" -L"$B" -lfoo
# lazy binding, partial RELRO; and bind-now with full RELRO
cc -pie -fPIE -rdynamic -o "$B/lazy" "$S/main.c" -L"$B" -lfoo -lbar \
    -Wl,-rpath,"$B" -Wl,-z,lazy -Wl,-z,norelro -ldl
cc -pie -fPIE -rdynamic -o "$B/now" "$S/main.c" -L"$B" -lfoo -lbar \
    -Wl,-rpath,"$B" -Wl,-z,now -Wl,-z,relro -ldl
export LD_LIBRARY_PATH=$B

# calls SYMBOL: call records of SYMBOL in $LOG (0 without a log)
calls() {
    [ -s "$LOG" ] || { echo 0; return; }
    q '[.[] | select(.operation == "call")
        | select(.call.symbol == $s)] | length' --arg s "$1"
}

for prog in lazy now; do
    P=$B/$prog
    export KEST_SYMBOLS=foo_mix,foo_big,foo_sum,app_entry,nosuch_fn
    unset KEST_SYMBOLS_MODE
    same "$prog: first mode" "$P" 3
    check "$prog: kest verify passes" verify_ok
    check_eq "$prog: foo_mix recorded once" 1 "$(calls foo_mix)"
    check_eq "$prog: foo_big recorded once" 1 "$(calls foo_big)"
    check_eq "$prog: varargs foo_sum recorded once" 1 "$(calls foo_sum)"
    check_eq "$prog: app_entry (executable, from dlopen'd plugin)" 1 \
        "$(calls app_entry)"
    check_eq "$prog: nothing recorded for a missing name" 0 \
        "$(calls nosuch_fn)"
    check_eq "$prog: the call block" \
        "foo_mix|$B/libfoo.so|first|got" \
        "$(q '.[] | select(.call.symbol == "foo_mix") | .call
              | "\(.symbol)|\(.object)|\(.mode)|\(.method)"')"
    check_eq "$prog: app_entry's object is the executable" "$P" \
        "$(q '.[] | select(.call.symbol == "app_entry") | .call.object')"

    # every: 5 from main, 1 through libbar, 1 from the dlopen'd plugin;
    # the pointer main takes with dlsym bypasses the GOT (not counted).
    export KEST_SYMBOLS_MODE=every
    same "$prog: every mode" "$P" 5
    check "$prog: every mode verifies" verify_ok
    check_eq "$prog: every mode counts 7 calls of foo_mix" 7 \
        "$(calls foo_mix)"
    check_eq "$prog: mode recorded as every" every \
        "$(q '[.[] | select(.operation == "call")][0].call.mode')"
    unset KEST_SYMBOLS_MODE

    export KEST_SYMBOLS=nosuch_fn
    same "$prog: only an unknown name" "$P" 2
    check_eq "$prog: no call record" 0 "$(calls nosuch_fn)"
    check_not "$prog: and no log at all" test -e "$LOG"
    unset KEST_SYMBOLS
done

# Without KEST_SYMBOLS nothing changes and nothing is recorded.
same "no KEST_SYMBOLS" "$B/now" 2
check_not "no KEST_SYMBOLS: no log" test -s "$LOG"

# The dlopen hook keeps a failing dlopen's error for the caller.
export KEST_SYMBOLS=foo_mix
same "dlopen failure passes through" "$B/now" 1 libnone.so
unset KEST_SYMBOLS

# A designated function called in a vfork child is not recorded there
# (the child shares our memory); in a fork child it is. execve itself
# is the designated function: its slot leads to the shim's own hook.
rm -f "$LOG"
under env KEST_SYMBOLS=execve "$TOOLS/vfork_exec" /bin/true
check "vfork child: the exec is recorded" test -s "$LOG"
check_eq "vfork child: the call is not" 0 "$(calls execve)"
rm -f "$LOG"
under env KEST_SYMBOLS=execv "$TOOLS/fork_exec" /bin/true
check_eq "fork child: the call is recorded" 1 "$(calls execv)"
check "fork child: verifies" verify_ok

# Diagnostics under KEST_DEBUG, and a list longer than the trampolines.
names=$(seq -f 'fn%g' 1 40 | paste -sd, -)
out=$(under env KEST_DEBUG=1 KEST_SYMBOLS="foo_mix,$names" "$B/now" 1 2>&1)
check "debug: a missing name is reported" \
    grep -q "symbol not found: fn1$" <<<"$out"
check "debug: names past the limit are reported" \
    grep -q "too many KEST_SYMBOLS" <<<"$out"
check "debug: foo_mix hooked" grep -q "hooked (GOT) foo_mix" <<<"$out"

finish
