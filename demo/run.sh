#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The kest demo: build, then attest an unmodified shell job, show its
# lineage, verify the log, and watch verification catch a tampered copy.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
kest=$top/build/bin/kest
work=$(mktemp -d /tmp/kest-demo.XXXXXX)
say() { printf '\n== %s\n' "$*"; }

say "1. A signing key for this machine (Ed25519, made on the spot)"
"$kest" keygen --out "$work/key.pem"

say "2. Run a legacy job, unmodified, under kest"
mkdir -p "$work/data"
for i in 1 2 3 4 5; do echo "record $i" > "$work/data/file$i.txt"; done
"$kest" run --log "$work/demo.log" --key "$work/key.pem" \
    --principal "spiffe://demo.example/batch/archiver" -- \
    "$top/demo/legacy-job.sh" "$work/data" "$work/out"
echo "job finished with status $?; $(wc -l < "$work/demo.log") records"

say "3. Who ran what, from which parent (kest show --tree)"
"$kest" show --tree "$work/demo.log" | cut -c1-110

say "4. Verify every signature and link (kest verify)"
"$kest" verify --key "$work/key.pub.pem" "$work/demo.log"

say "5. Tamper with a copy: change one argument in record 4"
cp "$work/demo.log" "$work/tampered.log"
sed -i '4s/"tar"/"cat"/' "$work/tampered.log"
if "$kest" verify --key "$work/key.pub.pem" "$work/tampered.log"; then
    echo "tampering went unnoticed: demo failed" >&2
    exit 1
fi

say "6. Delete a line from another copy"
sed '3d' "$work/demo.log" > "$work/deleted.log"
if "$kest" verify --key "$work/key.pub.pem" "$work/deleted.log"; then
    echo "deletion went unnoticed: demo failed" >&2
    exit 1
fi

echo
echo "Files are in $work (demo.log is the attestation log)."
