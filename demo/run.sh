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
# A compiled step whose internal function compute_report() is attested
# by name (KEST_SYMBOLS), without rebuilding it for kest.
cc -O2 -o "$work/report" "$top/demo/report.c"
REPORT=$work/report KEST_SYMBOLS=compute_report \
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

say "7. The lineage as a picture (kest show --dot)"
"$kest" show --dot "$work/demo.log" > "$work/lineage.dot"
if command -v dot >/dev/null 2>&1; then
    dot -Tpng -o "$work/lineage.png" "$work/lineage.dot"
    echo "drawn: $work/lineage.png"
else
    echo "graph: $work/lineage.dot (install graphviz to render it as PNG)"
fi

say "8. The same job with SPIRE identity (local Workload API double)"
certs=$work/spire-certs
sh "$top/tests/doubles/mkcerts.sh" "$certs" >/dev/null 2>&1
/usr/bin/python3 "$top/tests/doubles/workload_api.py" \
    --socket "$work/agent.sock" --certs "$certs" --mode ok \
    --ready-file "$work/agent.ready" >/dev/null 2>&1 &
agent=$!
trap 'kill $agent 2>/dev/null' EXIT
i=0
while [ ! -s "$work/agent.ready" ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
export SPIFFE_ENDPOINT_SOCKET="unix://$work/agent.sock"
REPORT=$work/report KEST_SYMBOLS=compute_report \
"$kest" run --log "$work/spire.log" -- \
    "$top/demo/legacy-job.sh" "$work/data" "$work/out-spire"
"$kest" show "$work/spire.log" | cut -c1-100 | head -4
"$kest" bundle --out "$work/bundle.pem"
echo "trust bundle fetched from the Workload API: $work/bundle.pem"
"$kest" verify --bundle "$work/bundle.pem" "$work/spire.log"
unset SPIFFE_ENDPOINT_SOCKET

echo
echo "Files are in $work (demo.log is the attestation log)."
