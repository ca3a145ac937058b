#!/bin/sh
# A stand-in for an old batch job nobody wants to touch: archive a
# directory, compress it and write a checksum manifest.
set -eu
src=$1
out=$2
mkdir -p "$out"
tar -cf "$out/data.tar" -C "$src" .
gzip -f "$out/data.tar"
(cd "$out" && sha256sum data.tar.gz > SHA256SUMS)
ls "$src" | wc -l > "$out/count"
# The compiled part of the job, if it was built (demo/run.sh does).
if [ -x "${REPORT:-}" ]; then
    "$REPORT" "$src"/*.txt > "$out/report"
fi
