# SPDX-License-Identifier: Apache-2.0
# Every shipped binary is built hardened: full RELRO (GNU_RELRO +
# BIND_NOW), stack protector and _FORTIFY_SOURCE checked calls
# (libkest.so's IBT/SHSTK marking is checked in shim_hygiene.sh).
# Skipped in the sanitizer build, where _FORTIFY_SOURCE is off.
. "$(dirname "$0")/lib.sh"

if nm -D "$KEST" | grep -q __asan_; then
    echo "# SKIP: sanitizer build"
    finish
    exit $?
fi
for f in "$KEST" "$SHIM" "$KEST_BUILD/lib/kest/libkest-core.so" \
         "$KEST_BUILD/lib/kest/kest-record"; do
    b=$(basename "$f")
    check "$b: GNU_RELRO segment" sh -c "readelf -lW '$f' | grep -q GNU_RELRO"
    check "$b: bound now (full RELRO)" sh -c \
        "readelf -d '$f' | grep -Eq 'BIND_NOW|Flags:.* NOW'"
    check "$b: stack protector" sh -c \
        "nm -D '$f' | grep -q __stack_chk_fail"
    check "$b: fortified libc calls" sh -c "nm -D '$f' | grep -q '_chk@'"
done
finish
