# SPDX-License-Identifier: Apache-2.0
# docs/FORMAT.md's worked example still holds: the documented commands
# verify the example record with openssl alone, and the hash they print
# is the head kest verify reports.
. "$(dirname "$0")/lib.sh"

ex=$KEST_SRC/docs/example
out=$(sh "$ex/verify-by-hand.sh" 2>&1)
check "openssl verifies the example record by hand" sh -c \
    "printf '%s' '$out' | grep -q 'Signature Verified Successfully'"
hash=$(printf '%s\n' "$out" | tail -1)
head=$("$KEST" verify --json --key "$ex/key.pub.pem" "$ex/record.jsonl" |
    jq -r .head)
check "the hand-computed hash is kest verify's head" test "$hash" = "$head"
# A changed byte must break the hand verification too.
cp -r "$ex" "$T/ex"
sed -i '2s/"pid":\([0-9]\)/"pid":9\1/' "$T/ex/record.jsonl"
check_not "a changed byte fails the hand verification" sh -c \
    "sh '$T/ex/verify-by-hand.sh' 2>&1 | grep -q 'Verified Successfully'"
finish
