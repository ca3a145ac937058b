# SPDX-License-Identifier: Apache-2.0
"""X509-SVID material for the Workload API double: fixtures and minting.

Reads the files mkcerts.sh writes, mints leaves with an exact validity
window (python3-cryptography), and holds the JWT authority keys.

As a command (run with /usr/bin/python3):
  svid_mint.py leaf --certs DIR --out PREFIX --ttl SECONDS
               [--id URI] [--leaf p256|rsa|p256-intermediate]
               [--not-before-offset SECONDS]
      writes PREFIX.der (leaf, then the intermediate if any) and
      PREFIX.key.der (PKCS#8); a negative offset makes expired leaves.
  svid_mint.py jwt-key DIR
      creates DIR/jwt-authority.key.der and DIR/jwks.json if missing.
"""
import argparse
import base64
import datetime
import hashlib
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LEAF_KINDS = ("p256", "rsa", "p256-intermediate")
# Fixture file stem per leaf kind, as written by mkcerts.sh.
FIXTURE_LEAF = {"p256": "leaf-p256", "rsa": "leaf-rsa",
                "p256-intermediate": "leaf-p256-int"}
JWT_KEY_FILE = "jwt-authority.key.der"
JWKS_FILE = "jwks.json"


def b64url(data):
    """Base64url without padding, as JOSE wants."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def read_file(path):
    """Return the bytes of a file."""
    with open(path, "rb") as f:
        return f.read()


def write_private(path, data, replace=True):
    """Write bytes to a file with mode 0600, through a unique temp file.

    With replace False an existing file wins: returns False and leaves
    it alone, so concurrent writers agree on one version.
    """
    tmp = "%s.%d.tmp" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if replace:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def cert_der(cert):
    """DER bytes of a certificate."""
    return cert.public_bytes(serialization.Encoding.DER)


def key_pkcs8(key):
    """Unencrypted PKCS#8 DER bytes of a private key."""
    return key.private_bytes(serialization.Encoding.DER,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def new_key(kind):
    """Generate a leaf key: RSA-2048 for "rsa", else EC P-256."""
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


class CertDir:
    """The fixtures in one mkcerts.sh output directory."""

    def __init__(self, path):
        """Remember the directory; files are read when first needed."""
        self.path = path

    def der(self, name):
        """Raw DER of NAME.der."""
        return read_file(os.path.join(self.path, name + ".der"))

    def cert(self, name):
        """NAME.der parsed as a certificate."""
        return x509.load_der_x509_certificate(self.der(name))

    def key(self, name):
        """NAME.key.der parsed as a private key."""
        data = read_file(os.path.join(self.path, name + ".key.der"))
        return serialization.load_der_private_key(data, password=None)

    def key_der(self, name):
        """Raw PKCS#8 DER of NAME.key.der."""
        return read_file(os.path.join(self.path, name + ".key.der"))

    def fixture_chain(self, stem):
        """Concatenated DER chain of a fixture leaf, leaf first."""
        chain = self.der(stem)
        if stem == "leaf-p256-int":
            chain += self.der("intermediate")
        return chain

    def signer(self, kind, domain):
        """Return (issuer cert, issuer key, DER of chain certs after leaf)."""
        if domain == "other.org":
            return self.cert("other-root"), self.key("other-root"), b""
        if kind == "p256-intermediate":
            return (self.cert("intermediate"), self.key("intermediate"),
                    self.der("intermediate"))
        return self.cert("root"), self.key("root"), b""

    def mint(self, kind, spiffe_id, lifetime, not_before=None):
        """Mint a fresh leaf and key for spiffe_id.

        The leaf is valid from not_before (default: now, whole seconds)
        for `lifetime` seconds. Returns (chain DER, PKCS#8 DER, serial).
        """
        domain = spiffe_id.split("/")[2]
        issuer, issuer_key, tail = self.signer(kind, domain)
        if not_before is None:
            not_before = datetime.datetime.now(datetime.timezone.utc)
        not_before = not_before.replace(microsecond=0)
        key = new_key(kind)
        cert = build_leaf(issuer, issuer_key, key, spiffe_id, not_before,
                          not_before + datetime.timedelta(seconds=lifetime))
        return cert_der(cert) + tail, key_pkcs8(key), cert.serial_number


def build_leaf(issuer, issuer_key, key, spiffe_id, not_before, not_after):
    """Sign an X509-SVID leaf: one URI SAN, digitalSignature, not a CA."""
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(
        issuer.public_key())
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False,
                          key_agreement=False, key_cert_sign=False,
                          crl_sign=False, encipher_only=False,
                          decipher_only=False)
    eku = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                 ExtendedKeyUsageOID.CLIENT_AUTH])
    san = x509.SubjectAlternativeName(
        [x509.UniformResourceIdentifier(spiffe_id)])
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kest test"),
        x509.NameAttribute(NameOID.COMMON_NAME, "minted leaf")])
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer.subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before)
               .not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=False,
                                                    path_length=None),
                              critical=True)
               .add_extension(usage, critical=True)
               .add_extension(eku, critical=False)
               .add_extension(ski, critical=False)
               .add_extension(aki, critical=False)
               .add_extension(san, critical=False))
    return builder.sign(issuer_key, hashes.SHA256())


class JwtAuthority:
    """An EC P-256 JWT signing key for one trust domain."""

    def __init__(self, key):
        """Wrap a private key; the kid is its RFC 7638 thumbprint."""
        self.key = key
        self.kid = jwk_thumbprint(public_jwk(key.public_key()))

    @classmethod
    def generate(cls):
        """An authority with a fresh key that lives only in memory."""
        return cls(ec.generate_private_key(ec.SECP256R1()))

    def jwk(self):
        """Public JWK as SPIFFE JWT bundles carry it (use jwt-svid)."""
        jwk = public_jwk(self.key.public_key())
        jwk.update({"kid": self.kid, "use": "jwt-svid"})
        return jwk


def public_jwk(pub):
    """The required members of an EC P-256 public JWK."""
    nums = pub.public_numbers()
    return {"kty": "EC", "crv": "P-256",
            "x": b64url(nums.x.to_bytes(32, "big")),
            "y": b64url(nums.y.to_bytes(32, "big"))}


def jwk_thumbprint(jwk):
    """RFC 7638 thumbprint of an EC JWK, base64url."""
    canon = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")},
                       separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canon.encode("ascii")).digest())


def jwks_json(authorities):
    """JWKS document bytes holding the public keys of the authorities."""
    return json.dumps({"keys": [a.jwk() for a in authorities]},
                      sort_keys=True).encode("ascii")


def load_jwt_authority(directory):
    """Load DIR/jwt-authority.key.der, creating it (and jwks.json) if absent.

    With directory None the key lives only in memory.
    """
    if directory is None:
        return JwtAuthority.generate()
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, JWT_KEY_FILE)
    if not os.path.exists(path):
        fresh = ec.generate_private_key(ec.SECP256R1())
        write_private(path, key_pkcs8(fresh), replace=False)
    key = serialization.load_der_private_key(read_file(path), None)
    authority = JwtAuthority(key)
    write_private(os.path.join(directory, JWKS_FILE),
                  jwks_json([authority]))
    return authority


def parse_args(argv):
    """Command line of the stand-alone minting tool."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    leaf = sub.add_parser("leaf", help="mint a leaf and key")
    leaf.add_argument("--certs", required=True)
    leaf.add_argument("--out", required=True, help="output path prefix")
    leaf.add_argument("--ttl", type=int, required=True, help="seconds")
    leaf.add_argument("--id", default="spiffe://example.org/workload")
    leaf.add_argument("--leaf", choices=LEAF_KINDS, default="p256")
    leaf.add_argument("--not-before-offset", type=int, default=0,
                      help="seconds added to now for notBefore")
    jwt_key = sub.add_parser("jwt-key", help="create the JWT authority")
    jwt_key.add_argument("dir")
    return ap.parse_args(argv)


def main(argv):
    """Run the minting tool; return the exit status."""
    args = parse_args(argv)
    if args.cmd == "jwt-key":
        authority = load_jwt_authority(args.dir)
        print(authority.kid)
        return 0
    start = (datetime.datetime.now(datetime.timezone.utc)
             + datetime.timedelta(seconds=args.not_before_offset))
    chain, key, serial = CertDir(args.certs).mint(args.leaf, args.id,
                                                  args.ttl, start)
    with open(args.out + ".der", "wb") as f:
        f.write(chain)
    write_private(args.out + ".key.der", key)
    print("%x" % serial)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
