# SPDX-License-Identifier: Apache-2.0
"""Tiny Workload API client (grpcio, raw bytes) to self-test the double.

  wlclient.py ADDRESS x509 [--count N] | x509-bundles | jwt-bundles
              | jwt AUDIENCE [--id SPIFFE_ID] | validate AUDIENCE TOKEN
              [--no-header]

ADDRESS is unix:///abs/path, unix:/abs/path, tcp://IP:PORT or a path.
Prints a JSON summary; on a gRPC error prints the status and exits 1.
"""
import argparse
import json
import sys

import grpc
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import wlmessages as msg

SECURITY_METADATA = (("workload.spiffe.io", "true"),)


def grpc_target(address):
    """Turn a SPIFFE endpoint address into a grpcio channel target."""
    if address.startswith("unix://"):
        return "unix:" + address[len("unix://"):]
    if address.startswith("unix:"):
        return address
    if address.startswith("tcp://"):
        return address[len("tcp://"):]
    return "unix:" + address


class WorkloadClient:
    """A channel to one Workload API endpoint, raw-bytes methods."""

    def __init__(self, address, metadata=SECURITY_METADATA, timeout=5.0,
                 max_receive=None):
        """Open a channel; metadata is sent as given (None: nothing)."""
        options = []
        if max_receive is not None:
            options.append(("grpc.max_receive_message_length", max_receive))
        self.channel = grpc.insecure_channel(grpc_target(address), options)
        self.metadata = tuple(metadata or ())
        self.timeout = timeout

    def __enter__(self):
        """Use as a context manager that closes the channel."""
        return self

    def __exit__(self, *exc):
        """Close the channel."""
        self.close()

    def close(self):
        """Close the channel and cancel whatever is still open."""
        self.channel.close()

    def stream(self, method, count=1, request=b""):
        """Read `count` raw messages from a server stream, then cancel it."""
        call = self.channel.unary_stream(msg.method_path(method))(
            request, metadata=self.metadata, timeout=self.timeout)
        try:
            return [next(call) for _ in range(count)]
        finally:
            call.cancel()

    def unary(self, method, request=b""):
        """Make a unary call; return the raw response bytes."""
        return self.channel.unary_unary(msg.method_path(method))(
            request, metadata=self.metadata, timeout=self.timeout)

    def fetch_x509_svid(self, count=1):
        """Decoded X509SVIDResponses: the first `count` on one stream."""
        return [msg.decode_x509svid_response(m)
                for m in self.stream("FetchX509SVID", count)]

    def fetch_x509_bundles(self):
        """The first decoded X509BundlesResponse."""
        raw = self.stream("FetchX509Bundles")[0]
        return msg.decode_x509_bundles_response(raw)

    def fetch_jwt_bundles(self):
        """The first decoded JWTBundlesResponse; values are parsed JWKS."""
        raw = self.stream("FetchJWTBundles")[0]
        bundles = msg.decode_jwt_bundles_response(raw)["bundles"]
        return {td: json.loads(jwks) for td, jwks in bundles.items()}

    def fetch_jwt_svid(self, audience, spiffe_id=""):
        """The decoded JWTSVIDResponse for a list of audiences."""
        req = msg.encode_jwtsvid_request(audience, spiffe_id)
        return msg.decode_jwtsvid_response(self.unary("FetchJWTSVID", req))

    def validate_jwt_svid(self, audience, token):
        """The decoded ValidateJWTSVIDResponse."""
        req = msg.encode_validate_request(audience, token)
        raw = self.unary("ValidateJWTSVID", req)
        return msg.decode_validate_response(raw)


def split_der(blob):
    """Split concatenated DER SEQUENCEs (certificates) into a list."""
    out, pos = [], 0
    while pos < len(blob):
        if blob[pos] != 0x30 or pos + 2 > len(blob):
            raise ValueError("not a DER SEQUENCE at offset %d" % pos)
        first = blob[pos + 1]
        if first < 0x80:
            head, length = 2, first
        else:
            nbytes = first & 0x7F
            if nbytes == 0 or nbytes > 4:
                raise ValueError("bad DER length at offset %d" % pos)
            head = 2 + nbytes
            length = int.from_bytes(blob[pos + 2:pos + head], "big")
        end = pos + head + length
        if end > len(blob):
            raise ValueError("DER item runs past the end at %d" % pos)
        out.append(blob[pos:end])
        pos = end
    return out


def load_certs(blob):
    """Parse concatenated DER certificates."""
    return [x509.load_der_x509_certificate(d) for d in split_der(blob)]


def uri_sans(cert):
    """The URI SANs of a certificate."""
    ext = cert.extensions.get_extension_for_class(
        x509.SubjectAlternativeName)
    return ext.value.get_values_for_type(x509.UniformResourceIdentifier)


def public_der(pub):
    """SubjectPublicKeyInfo DER of a public key, for comparisons."""
    return pub.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def key_matches(cert, key_der):
    """True if a PKCS#8 DER private key belongs to the certificate."""
    key = serialization.load_der_private_key(key_der, password=None)
    return public_der(key.public_key()) == public_der(cert.public_key())


def verify_jwt(token, jwks, audience):
    """Verify a JWT-SVID with the JWKS key whose kid its header names."""
    kid = jwt.get_unverified_header(token)["kid"]
    for jwk in jwks["keys"]:
        if jwk.get("kid") == kid:
            key = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(jwk))
            return jwt.decode(token, key, algorithms=["ES256"],
                              audience=audience)
    raise jwt.InvalidKeyError("kid %r not in the JWKS" % kid)


def summarize_svid(svid):
    """JSON-friendly summary of one decoded X509SVID."""
    certs = load_certs(svid["x509_svid"])
    return {"spiffe_id": svid["spiffe_id"], "hint": svid["hint"],
            "chain": len(certs), "serial": "%x" % certs[0].serial_number,
            "uri_sans": uri_sans(certs[0]),
            "not_after": certs[0].not_valid_after.isoformat(),
            "key_matches": key_matches(certs[0], svid["x509_svid_key"]),
            "bundle_certs": len(split_der(svid["bundle"]))}


def run(args):
    """Do the call the command line asks for; return a JSON-able value."""
    metadata = () if args.no_header else SECURITY_METADATA
    with WorkloadClient(args.address, metadata) as client:
        if args.call == "x509":
            return [[summarize_svid(s) for s in r["svids"]]
                    for r in client.fetch_x509_svid(args.count)]
        if args.call == "x509-bundles":
            bundles = client.fetch_x509_bundles()["bundles"]
            return {td: len(split_der(der)) for td, der in bundles.items()}
        if args.call == "jwt-bundles":
            return client.fetch_jwt_bundles()
        if args.call == "jwt":
            return client.fetch_jwt_svid([args.args[0]], args.id)
        return client.validate_jwt_svid(args.args[0], args.args[1])


def main(argv):
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("address")
    ap.add_argument("call", choices=("x509", "x509-bundles", "jwt-bundles",
                                     "jwt", "validate"))
    ap.add_argument("args", nargs="*")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--id", default="")
    ap.add_argument("--no-header", action="store_true")
    args = ap.parse_args(argv)
    need = {"jwt": 1, "validate": 2}.get(args.call, 0)
    if len(args.args) != need:
        ap.error("%s takes %d argument(s)" % (args.call, need))
    try:
        print(json.dumps(run(args), indent=2, sort_keys=True))
    except grpc.RpcError as err:
        print("%s: %s" % (err.code().name, err.details()))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
