# SPDX-License-Identifier: Apache-2.0
# kest verify reads a log in bounded batches: its peak resident memory
# (GNU time's %M) on a log four times larger is not much higher. What
# it keeps per record (the hash, for lineage) is all that may grow.
# Sizes (records): KEST_VERIFY_SMALL (24,000, about 25 MB) and
# KEST_VERIFY_BIG (96,000, about 100 MB).
. "$(dirname "$0")/lib.sh"

GNUTIME=/usr/bin/time
SMALL=${KEST_VERIFY_SMALL:-24000}
BIG=${KEST_VERIFY_BIG:-96000}
if [ ! -x "$GNUTIME" ]; then
    echo "# SKIP: no $GNUTIME (Debian package time)"
    finish
    exit $?
fi

# grow LOG N: N more signed exec records (and a start record)
grow() {
    KEST_LOG=$1 KEST_KEY=$KEY KEST_PRINCIPAL=mem "$TOOLS/appender" "$2"
}
# peak LOG: kest verify LOG under GNU time; status in RC, KiB in KB
peak() {
    "$GNUTIME" -f %M -o "$T/time" "$KEST" verify -q --key "$PUB" "$1"
    RC=$?
    KB=$(tail -n 1 "$T/time")
}
mb() { echo "$(($1 / 1024)) MB"; }

# The big log is the small one and more, so it is made in one pass.
grow "$T/small.log" "$SMALL"
cp "$T/small.log" "$T/big.log"
grow "$T/big.log" $((BIG - SMALL))
small_bytes=$(stat -c %s "$T/small.log")
big_bytes=$(stat -c %s "$T/big.log")
check "the logs hold $SMALL and $BIG records" \
    same "$((SMALL + 1)) $((BIG + 2))" \
    "$(wc -l <"$T/small.log") $(wc -l <"$T/big.log")"

peak "$T/small.log"
small_rc=$RC small_kb=$KB
peak "$T/big.log"
big_rc=$RC big_kb=$KB
echo "# kest verify peak RSS: $(mb "$small_kb") on $(mb \
$((small_bytes / 1024))), $(mb "$big_kb") on $(mb $((big_bytes / 1024)))"
check "both logs verify" same "0 0" "$small_rc $big_rc"
check "peak RSS on the 4x log below 1.5x + 8 MB ($small_kb, $big_kb KiB)" \
    test "$big_kb" -lt $((small_kb * 3 / 2 + 8192))
# ASan's quarantine and shadow pages (hundreds of MB) are no part of
# kest's own footprint: the absolute bound holds for normal builds only.
if ldd "$KEST" 2>/dev/null | grep -q libasan; then
    echo "# SKIP absolute bound: $KEST is built with AddressSanitizer"
else
    check "peak RSS below the big log's size (it is not read whole)" \
        test "$big_kb" -lt $((big_bytes / 1024))
fi
finish
