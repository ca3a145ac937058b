#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Makes the X.509 fixtures the Workload API double serves, with openssl.
#
# Usage: mkcerts.sh [--days N] DIR
#
# Writes into DIR (certificates as DER, keys as unencrypted PKCS#8 DER):
#   root.der root.key.der               P-256 CA, URI spiffe://example.org
#   intermediate.der intermediate.key.der  P-256 CA signed by root
#   leaf-p256.der leaf-p256.key.der     spiffe://example.org/workload, root
#   leaf-p256-int.der leaf-p256-int.key.der  same ID, via the intermediate
#   leaf-rsa.der leaf-rsa.key.der       same ID, RSA-2048, root
#   workload-a.der workload-a.key.der   spiffe://example.org/workload-a
#   workload-b.der workload-b.key.der   spiffe://example.org/workload-b
#   other-root.der other-root.key.der   P-256 CA, URI spiffe://other.org
#   other-leaf.der other-leaf.key.der   spiffe://other.org/workload
#   bundle.pem                          root.der as PEM, for auditors
#   other-bundle.pem                    other-root.der as PEM
# Leaves are valid for N days (default 1); CAs for 3650 days.
# Leaves with a lifetime in seconds come from svid_mint.py at run time.
set -eu

days=1
usage() {
    echo "usage: mkcerts.sh [--days N] DIR" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
    --days) [ $# -ge 2 ] || usage; days=$2; shift 2 ;;
    --days=*) days=${1#--days=}; shift ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) break ;;
    esac
done
[ $# -eq 1 ] || usage
case $days in
''|*[!0-9]*|0) echo "mkcerts.sh: --days wants a positive integer" >&2
    exit 2 ;;
esac
out=$1
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/kest-mkcerts.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# One config for every certificate; the URI SAN comes from SPIFFE_URI.
cat >"$work/ext.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
[root_ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
subjectAltName = URI:${ENV::SPIFFE_URI}
[intermediate_ca]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = URI:${ENV::SPIFFE_URI}
[leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = URI:${ENV::SPIFFE_URI}
EOF

# serial: a random positive 120-bit serial number in hex
serial() {
    echo "0x$(openssl rand -hex 15)"
}

# newkey NAME p256|rsa: a private key in $work/NAME.key.pem
newkey() {
    case $2 in
    p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
              -pkeyopt ec_param_enc:named_curve -out "$work/$1.key.pem" ;;
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
             -out "$work/$1.key.pem" 2>/dev/null ;;
    esac
}

# rootca NAME URI: a self-signed CA certificate in $work/NAME.pem
rootca() {
    newkey "$1" p256
    SPIFFE_URI=$2 openssl req -x509 -new -config "$work/ext.cnf" \
        -extensions root_ca -key "$work/$1.key.pem" -sha256 \
        -subj "/O=kest test/CN=$1" -days 3650 -set_serial "$(serial)" \
        -out "$work/$1.pem"
}

# issue NAME KEYTYPE ISSUER URI SECTION DAYS: NAME signed by ISSUER
issue() {
    newkey "$1" "$2"
    SPIFFE_URI=$4 openssl req -new -config "$work/ext.cnf" \
        -key "$work/$1.key.pem" \
        -subj "/O=kest test/CN=$1" -out "$work/$1.csr"
    SPIFFE_URI=$4 openssl x509 -req -in "$work/$1.csr" -sha256 \
        -CA "$work/$3.pem" -CAkey "$work/$3.key.pem" \
        -set_serial "$(serial)" -days "$6" \
        -extfile "$work/ext.cnf" -extensions "$5" -out "$work/$1.pem" \
        2>/dev/null
}

# export NAME: DER certificate and PKCS#8 DER key into $out
export_der() {
    openssl x509 -in "$work/$1.pem" -outform DER -out "$out/$1.der"
    openssl pkcs8 -topk8 -nocrypt -in "$work/$1.key.pem" -outform DER \
        -out "$out/$1.key.der"
    chmod 600 "$out/$1.key.der"
}

rootca root spiffe://example.org
issue intermediate p256 root spiffe://example.org intermediate_ca 3650
issue leaf-p256 p256 root spiffe://example.org/workload leaf "$days"
issue leaf-p256-int p256 intermediate spiffe://example.org/workload \
    leaf "$days"
issue leaf-rsa rsa root spiffe://example.org/workload leaf "$days"
issue workload-a p256 root spiffe://example.org/workload-a leaf "$days"
issue workload-b p256 root spiffe://example.org/workload-b leaf "$days"
rootca other-root spiffe://other.org
issue other-leaf p256 other-root spiffe://other.org/workload leaf "$days"

for name in root intermediate leaf-p256 leaf-p256-int leaf-rsa \
            workload-a workload-b other-root other-leaf; do
    export_der "$name"
done
cp "$work/root.pem" "$out/bundle.pem"
cp "$work/other-root.pem" "$out/other-bundle.pem"
