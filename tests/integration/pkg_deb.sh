# SPDX-License-Identifier: Apache-2.0
# Packaging: cpack builds a .deb; apt-get installs it; a program recorded
# with the installed files only (no build tree on any path) verifies.
# Installs into /usr, so it runs only in CI or with KEST_TEST_INSTALL=1,
# as root, and removes the package again.
. "$(dirname "$0")/lib.sh"

if [ "${CI:-}" != true ] && [ "${KEST_TEST_INSTALL:-0}" != 1 ]; then
    echo "# SKIP: installs a package; set KEST_TEST_INSTALL=1 to run"
    finish
    exit $?
fi
if [ "$(id -u)" -ne 0 ] || dpkg-query -W kest >/dev/null 2>&1; then
    echo "# SKIP: needs root and no kest package already installed"
    finish
    exit $?
fi

(cd "$KEST_BUILD" && cpack -G DEB >/dev/null) || fail "cpack -G DEB"
deb=$(ls "$KEST_BUILD"/kest_*_amd64.deb 2>/dev/null | head -1)
check "cpack made a .deb" test -f "$deb"
check "its dependencies name the runtime libraries" sh -c \
    "dpkg -I '$deb' | grep -q 'Depends:.*libssl3.*libjansson4'"
check "... and libnghttp2-14, which the Workload API client opens" sh -c \
    "dpkg -I '$deb' | grep -q 'Depends:.*libnghttp2-14'"
cp "$deb" "$T/"
check "apt-get installs it" sh -c \
    "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq '$T/$(basename "$deb")' >/dev/null 2>&1"
trap 'apt-get remove -y -qq kest >/dev/null 2>&1; rm -rf "$T"' EXIT

multi=$(gcc -print-multiarch)
check "kest is in bindir" test -x /usr/bin/kest
check "libkest.so is in the multiarch libdir" \
    test -f "/usr/lib/$multi/libkest.so"
check "the man page is installed" test -f /usr/share/man/man1/kest.1

# Only the installed files: run from an empty directory with a PATH that
# has no build tree on it.
cd "$T"
env -i PATH=/usr/bin:/bin HOME="$T" /usr/bin/kest keygen --out k.pem \
    >/dev/null
env -i PATH=/usr/bin:/bin HOME="$T" /usr/bin/kest run --log r.log \
    --key k.pem -- sh -c 'ls / >/dev/null; true'
check "kest run with the installed library exits 0" test $? -eq 0
check "the installed shim recorded the child's exec" sh -c \
    "jq -r '.payload.exec.resolved // empty' r.log | grep -q /ls"
check_not "nothing in the log points into the build tree" \
    grep -q "$KEST_BUILD" r.log
check "kest verify passes" /usr/bin/kest verify -q --key k.pub.pem r.log
finish
