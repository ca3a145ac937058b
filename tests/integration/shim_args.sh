# SPDX-License-Identifier: Apache-2.0
# Failed execs and awkward arguments: the caller sees the errno it would
# see without kest and an exec_failed record carries it; argv and paths
# that are not plain text are recorded byte for byte.
. "$(dirname "$0")/shimlib.sh"

# failed TOOL ERRNO ARG...: same output (the tool prints errno), one
# exec_failed record with that errno pointing at the exec record.
failed() {
    tool=$1 want=$2; shift 2
    d="$tool $* fails with errno $want"
    api=${tool#run_}
    [ "$tool" = vfork_exec ] && api=execve
    same "$d" "$TOOLS/$tool" "$@"
    check_eq "$d: the program saw errno $want" \
        "$api: errno=$want" "$(under "$TOOLS/$tool" "$@" 2>&1)"
    rm -f "$LOG"
    under "$TOOLS/$tool" "$@" >/dev/null 2>&1
    check_eq "$d: exec_failed record" \
        "$want $(q '.[] | select(.operation == "exec") | ._hash')" \
        "$(q '.[] | select(.operation == "exec_failed")
              | "\(.exec_failed.errno) \(.exec_failed.exec)"')"
    check "$d: kest verify passes" verify_ok
}

echo 'not a program' >"$T/plain"
chmod 644 "$T/plain"
failed run_execve 2 "$T/missing"
failed run_execve 13 "$T/plain"
failed run_execvp 2 no-such-program-kest
failed run_execveat 2 "$T/missing"
failed run_posix_spawn 2 "$T/missing"
failed run_posix_spawnp 13 "$T/plain"
failed vfork_exec 2 "$T/missing"
check_eq "a missing file has no resolved path" "null" \
    "$(q '.[] | select(.operation == "exec") | .exec.resolved')"

# argv that is not text, empty strings: decoded, the record gives back
# exactly the bytes passed.
decode='def raw: if type == "string" then . else .b64 end;
        [.[] | select(.operation == "exec") | .exec.argv[] | raw]
        | join(" ")'
b64() { printf '%s' "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='; }
for tool in run_execve vfork_exec; do
    same "$tool: raw bytes and empty strings" "$TOOLS/$tool" /bin/echo \
        $'\xff\xfe' "" $'caf\xc3\xa9' "" $'\xc3\x28' "a b"
    check_eq "$tool: argv recorded losslessly" \
        "/bin/echo $(b64 $'\xff\xfe')  café  $(b64 $'\xc3\x28') a b" \
        "$(q "$decode")"
    check_eq "$tool: invalid UTF-8 as {b64}, valid as strings" \
        '[{"b64":"__4"},"","café","",{"b64":"wyg"},"a b"]' \
        "$(q '.[] | select(.operation == "exec") | .exec.argv[1:]
              | tojson')"
    check "$tool: kest verify passes" verify_ok
done

# 100,000 arguments, in process and through kest-record.
for tool in run_execve vfork_exec; do
    rm -f "$LOG"
    # shellcheck disable=SC2046
    under "$TOOLS/$tool" /bin/true $(seq 100000)
    check_eq "$tool: 100,000 arguments: status" 0 "$?"
    check_eq "$tool: 100,000 arguments all recorded, in order" \
        "100001 /bin/true 1 50000 100000" \
        "$(q '.[] | select(.operation == "exec") | .exec.argv
              | "\(length) \(.[0]) \(.[1]) \(.[50000]) \(.[100000])"')"
    check "$tool: 100,000 arguments: kest verify passes" verify_ok
done

# A NULL argv: Linux runs the program with an empty argument list.
same "NULL argv" "$TOOLS/null_argv" /bin/true
check_eq "NULL argv: recorded as null, not as []" "null" \
    "$(q '.[] | select(.operation == "exec") | .exec.argv')"
check "NULL argv: kest verify passes" verify_ok

# A program whose path has a newline and a byte that is not UTF-8.
mkdir "$T/odd"
nl="$T/odd/new"$'\n'"line"
cp /bin/echo "$nl"
same "path with a newline" "$TOOLS/run_execve" "$nl" hi
check_eq "path with a newline: exec.path and exec.resolved exact" \
    "$(jq -nc --arg p "$nl" '[$p, $p]')" \
    "$(q '.[] | select(.operation == "exec")
          | [.exec.path, .exec.resolved] | tojson')"
check "path with a newline: kest verify passes" verify_ok
bad="$T/odd/bad"$'\xe9'
cp /bin/echo "$bad"
same "path with a Latin-1 byte" "$TOOLS/run_execv" "$bad" hi
check_eq "path with a Latin-1 byte: recorded as {b64}" \
    "$(b64 "$bad") $(b64 "$bad")" \
    "$(q '.[] | select(.operation == "exec")
          | "\(.exec.path.b64) \(.exec.resolved.b64)"')"
check "path with a Latin-1 byte: kest verify passes" verify_ok

finish
