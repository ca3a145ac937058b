# SPDX-License-Identifier: Apache-2.0
# kest show --tree over a lineage deeper than a recursive walk survives:
# a script that execs itself 600 times, shown with a 1 MiB stack (a
# recursive walk with a 4 KiB frame per level died at about 2,000
# levels with the default 8 MiB).
. "$(dirname "$0")/lib.sh"

L=$T/deep.log
cat >"$T/chain.sh" <<'EOF'
n=$1
[ "$n" -gt 0 ] && exec /bin/sh "$0" $((n - 1))
true
EOF
krun "$L" --key "$KEY" -- /bin/sh "$T/chain.sh" 600
check "the chain ran" same 0 "$RC"
check "one record per exec" test "$(count_ops "$L" exec)" -ge 601

out=$( (ulimit -s 1024 && "$KEST" show --tree "$L") 2>"$T/show.err")
check "show --tree exits 0 with a 1 MiB stack" same 0 "$?"
check "every record is shown" \
    same "$(wc -l <"$L")" "$(printf '%s\n' "$out" | wc -l)"
check "the deepest exec is indented under its 600 ancestors" \
    test "$(printf '%s\n' "$out" | grep -c '^ *`- exec ')" -ge 601
check "the last line is the innermost exec" \
    same 1 "$(printf '%s\n' "$out" | tail -1 | grep -c 'chain.sh 0\]')"
check "nothing on stderr" test ! -s "$T/show.err"

finish
