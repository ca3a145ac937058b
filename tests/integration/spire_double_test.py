# SPDX-License-Identifier: Apache-2.0
"""Self-test of the SPIFFE Workload API double in tests/doubles.

Makes fixtures with mkcerts.sh, starts workload_api.py once per mode on
a socket in a temporary directory and checks it with wlclient. Prints
TAP lines and "N passed, M failed". Every server is stopped on the way
out, and dies with this process (PR_SET_PDEATHSIG) if it is killed.
"""
import ctypes
import datetime
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DOUBLES = os.path.join(os.path.dirname(HERE), "doubles")
sys.path.insert(0, DOUBLES)

import grpc  # noqa: E402
import jwt  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import (  # noqa: E402
    ec, padding, rsa)

import pbwire  # noqa: E402
import wlmessages as msg  # noqa: E402
import workload_api  # noqa: E402
from wlclient import (WorkloadClient, key_matches, load_certs,  # noqa: E402
                      split_der, uri_sans, verify_jwt)

PYTHON = "/usr/bin/python3"
SERVER = os.path.join(DOUBLES, "workload_api.py")
MKCERTS = os.path.join(DOUBLES, "mkcerts.sh")
MINT = os.path.join(DOUBLES, "svid_mint.py")
WORKLOAD = "spiffe://example.org/workload"
HEADER = "workload.spiffe.io"
BUDGET_S = 55
MIB = 1 << 20


class Tap:
    """TAP output and the pass/fail tally."""

    def __init__(self):
        """Start with no results."""
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, note=""):
        """Report one assertion; print a short note when it fails."""
        n = self.passed + self.failed + 1
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print("%s %d - %s" % ("ok" if ok else "not ok", n, what))
        if not ok and note:
            for line in str(note).splitlines()[:6]:
                print("# " + line)
        sys.stdout.flush()
        return ok

    def status(self, fn, code, what, details=None):
        """Check that fn() fails with a gRPC status (and message)."""
        try:
            fn()
        except grpc.RpcError as err:
            ok = err.code() == code and (details is None
                                         or err.details() == details)
            return self.check(ok, what, "%s: %s" % (err.code(),
                                                    err.details()))
        return self.check(False, what, "call succeeded")


# Loaded up front: dlopen in a child forked from a threaded process
# (grpcio's threads) could block on a lock another thread held.
LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def die_with_parent():
    """In the child: get SIGTERM when the test process dies."""
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Server:
    """One workload_api.py subprocess, started and always stopped."""

    def __init__(self, tmp, certs, mode, *extra, tcp=False):
        """Describe the server; start() runs it."""
        self.dir = tempfile.mkdtemp(prefix=mode + ".", dir=tmp)
        self.ready = os.path.join(self.dir, "ready")
        self.calls_log = os.path.join(self.dir, "calls.jsonl")
        where = ["--tcp", "127.0.0.1:0"] if tcp else \
            ["--socket", os.path.join(self.dir, "api.sock")]
        self.argv = [PYTHON, SERVER, *where, "--certs", certs,
                     "--mode", mode, "--ready-file", self.ready,
                     "--calls-log", self.calls_log,
                     "--jwt-key", os.path.join(tmp, "jwt"), *extra]
        self.proc = None
        self.address = None

    def start(self):
        """Run the server and wait (at most 15 s) for its ready file."""
        errlog = open(os.path.join(self.dir, "stderr"), "wb")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=errlog,
                                     preexec_fn=die_with_parent)
        errlog.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if os.path.exists(self.ready):
                with open(self.ready) as f:
                    self.address = f.read().strip()
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("server %s did not start: %s"
                           % (self.argv, self.stderr()))

    def stderr(self):
        """What the server wrote on stderr so far."""
        with open(os.path.join(self.dir, "stderr"), "rb") as f:
            return f.read().decode(errors="replace")[-2000:]

    def stop(self):
        """SIGTERM, then SIGKILL after 5 s; return the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.terminate()
        try:
            return self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def calls(self):
        """The calls log as a list of dicts."""
        if not os.path.exists(self.calls_log):
            return []
        with open(self.calls_log) as f:
            return [json.loads(line) for line in f]

    def client(self, **kw):
        """A wlclient connected to this server."""
        return WorkloadClient(self.address, **kw)

    def __enter__(self):
        """Start on entry."""
        return self.start()

    def __exit__(self, *exc):
        """Stop on exit, whatever happened."""
        self.stop()


def issued_by(cert, issuer):
    """True if cert names issuer and carries a valid signature from it."""
    pub = issuer.public_key()
    try:
        if isinstance(pub, ec.EllipticCurvePublicKey):
            pub.verify(cert.signature, cert.tbs_certificate_bytes,
                       ec.ECDSA(cert.signature_hash_algorithm))
        else:
            pub.verify(cert.signature, cert.tbs_certificate_bytes,
                       padding.PKCS1v15(), cert.signature_hash_algorithm)
    except InvalidSignature:
        return False
    return cert.issuer == issuer.subject


def chain_valid(svid, roots_der):
    """Walk the SVID chain up to one of the DER roots."""
    chain = load_certs(svid["x509_svid"]) + load_certs(roots_der)
    return all(issued_by(chain[i], chain[i + 1])
               for i in range(len(chain) - 1))


def read(path):
    """Bytes of a file."""
    with open(path, "rb") as f:
        return f.read()


def first_svid(server, **kw):
    """The first X509SVID of the first FetchX509SVID message."""
    with server.client(**kw) as c:
        return c.fetch_x509_svid()[0]["svids"][0]


# Checks that need no server.

def test_fixtures(t, certs):
    """mkcerts.sh wrote every file, and openssl accepts the chains."""
    names = ["root", "intermediate", "leaf-p256", "leaf-p256-int",
             "leaf-rsa", "workload-a", "workload-b", "other-root",
             "other-leaf"]
    missing = [n for n in names
               if not (os.path.exists(os.path.join(certs, n + ".der"))
                       and os.path.exists(os.path.join(certs,
                                                       n + ".key.der")))]
    t.check(not missing and os.path.exists(os.path.join(certs,
                                                        "bundle.pem")),
            "mkcerts.sh wrote all fixtures", missing)
    root = load_certs(read(os.path.join(certs, "root.der")))[0]
    t.check(uri_sans(root) == ["spiffe://example.org"],
            "root CA has URI SAN spiffe://example.org")
    leaf = load_certs(read(os.path.join(certs, "leaf-p256.der")))[0]
    life = leaf.not_valid_after - leaf.not_valid_before
    t.check(life == datetime.timedelta(days=1) and issued_by(leaf, root)
            and key_matches(leaf, read(os.path.join(certs,
                                                    "leaf-p256.key.der"))),
            "leaf-p256: one day, signed by root, key matches")


def test_wire(t):
    """The hand-written protobuf codec: round trips and bad input."""
    ok = all(pbwire.decode_varint(pbwire.encode_varint(v), 0)[0] == v
             for v in (0, 1, 127, 128, 300, 2**32, 2**64 - 1))
    t.check(ok, "varint round trip up to 2^64-1")
    bad = {"truncated varint": b"\x0a\x80",
           "length past end": b"\x0a\x05abc",
           "wire type 7": b"\x0f\x00",
           "group wire type 3": b"\x0b\x00",
           "field number 0": b"\x02\x00",
           "11-byte varint": b"\x08" + b"\xff" * 10 + b"\x01"}
    for name, data in bad.items():
        try:
            list(pbwire.iter_fields(data))
            t.check(False, "codec rejects " + name)
        except pbwire.WireError:
            t.check(True, "codec rejects " + name)
    svid = {"spiffe_id": WORKLOAD, "x509_svid": b"c", "x509_svid_key": b"k",
            "bundle": b"b", "hint": "h"}
    data = (pbwire.field_varint(9, 7) + pbwire.field_double(10, 1.5)
            + pbwire.encode_tag(11, pbwire.FIXED32) + b"\0\0\0\0"
            + msg.encode_x509svid_response([svid], [b"crl"], {"td": b"x"}))
    got = msg.decode_x509svid_response(data)
    t.check(got == {"svids": [svid], "crl": [b"crl"],
                    "federated_bundles": {"td": b"x"}},
            "X509SVIDResponse round trip, unknown wire types 0/1/5 skipped")
    claims = {"sub": WORKLOAD, "aud": ["a", "b"], "exp": 5.0, "n": None,
              "b": True, "o": {"k": "v"}}
    got = msg.decode_validate_response(
        msg.encode_validate_response(WORKLOAD, claims))
    t.check(got["claims"] == claims, "Struct claims round trip")
    rejected = 0
    for kind in workload_api.GARBAGE_KINDS:
        try:
            msg.decode_x509svid_response(workload_api.garbage_bytes(kind))
        except pbwire.WireError:
            rejected += 1
    t.check(rejected == len(workload_api.GARBAGE_KINDS),
            "every garbage kind fails to decode")


def test_mint_cli(t, tmp, certs):
    """svid_mint.py mints a leaf with an exact (here: past) window."""
    out = os.path.join(tmp, "expired")
    subprocess.run([PYTHON, MINT, "leaf", "--certs", certs, "--out", out,
                    "--ttl", "10", "--not-before-offset", "-60"],
                   check=True, stdout=subprocess.DEVNULL, timeout=20)
    leaf = load_certs(read(out + ".der"))[0]
    now = datetime.datetime.utcnow()
    t.check(leaf.not_valid_after - leaf.not_valid_before
            == datetime.timedelta(seconds=10) and leaf.not_valid_after < now
            and key_matches(leaf, read(out + ".key.der")),
            "svid_mint.py leaf: 10 s lifetime, expired, key matches")


# Checks against running servers.

def test_ok(t, tmp, certs):
    """Mode ok: the SVID, the header rule, bundles, JWT, open streams."""
    root_der = read(os.path.join(certs, "root.der"))
    with Server(tmp, certs, "ok") as srv:
        resp = srv.client().fetch_x509_svid()[0]
        svid = resp["svids"][0]
        leaf = load_certs(svid["x509_svid"])[0]
        t.check(len(resp["svids"]) == 1 and svid["spiffe_id"] == WORKLOAD
                and uri_sans(leaf) == [WORKLOAD],
                "ok: one SVID, leaf URI SAN " + WORKLOAD)
        t.check(key_matches(leaf, svid["x509_svid_key"]),
                "ok: PKCS#8 key matches the leaf")
        t.check(svid["bundle"] == root_der and chain_valid(svid, root_der)
                and svid["hint"] == "default",
                "ok: bundle is the root, chain verifies, hint set")
        test_header_rule(t, srv)
        test_streams_and_bundles(t, srv, root_der)
        test_jwt(t, srv)
        calls = srv.calls()
        t.check(calls and calls[0]["method"] == "FetchX509SVID"
                and HEADER in calls[0]["metadata_keys"]
                and calls[0]["status"] == "OK",
                "ok: calls log records method, metadata keys, status",
                calls[:1])
        t.check(srv.stop() == 0 and not os.path.exists(srv.ready)
                and not os.path.exists(srv.address[len("unix://"):]),
                "SIGTERM: exit 0, socket and ready file removed")


def test_header_rule(t, srv):
    """Missing, duplicated or wrong security header: InvalidArgument."""
    cases = {"missing": (), "duplicated": ((HEADER, "true"),) * 2,
             "'True'": ((HEADER, "True"),), "empty": ((HEADER, ""),)}
    for name, md in cases.items():
        with srv.client(metadata=md) as c:
            t.status(c.fetch_x509_svid, grpc.StatusCode.INVALID_ARGUMENT,
                     "header %s -> InvalidArgument" % name,
                     workload_api.MSG_NO_HEADER)
    with srv.client(metadata=()) as c:
        t.status(lambda: c.fetch_jwt_svid(["a"]),
                 grpc.StatusCode.INVALID_ARGUMENT,
                 "header missing on FetchJWTSVID -> InvalidArgument",
                 workload_api.MSG_NO_HEADER)
    with srv.client() as c:
        t.status(lambda: c.stream("FetchWITSVID"),
                 grpc.StatusCode.UNIMPLEMENTED,
                 "FetchWITSVID -> Unimplemented, as SPIRE",
                 "method FetchWITSVID not implemented")
        t.status(lambda: c.unary("FetchNothing"),
                 grpc.StatusCode.UNIMPLEMENTED,
                 "unknown method -> grpcio's Unimplemented")


def test_streams_and_bundles(t, srv, root_der):
    """Streams stay open after the first message; bundle maps decode."""
    with srv.client(timeout=0.8) as c:
        t.status(lambda: c.stream("FetchX509SVID", count=2),
                 grpc.StatusCode.DEADLINE_EXCEEDED,
                 "FetchX509SVID holds the stream open after one message")
    with srv.client() as c:
        bundles = c.fetch_x509_bundles()
    t.check(bundles == {"crl": [],
                        "bundles": {"spiffe://example.org": root_der}},
            "FetchX509Bundles: field 2 maps the trust domain to root DER")


def test_jwt(t, srv):
    """JWT-SVID: verifies with the JWKS, audience rule, validation."""
    with srv.client() as c:
        token = c.fetch_jwt_svid(["kest-audit"])["svids"][0]["svid"]
        jwks = c.fetch_jwt_bundles()["spiffe://example.org"]
        claims = verify_jwt(token, jwks, "kest-audit")
        header = jwt.get_unverified_header(token)
        t.check(claims["sub"] == WORKLOAD and claims["aud"] == ["kest-audit"]
                and claims["exp"] - claims["iat"] == 300
                and header["alg"] == "ES256"
                and all(k.get("use") == "jwt-svid" for k in jwks["keys"]),
                "JWT-SVID verifies with the JWKS from FetchJWTBundles")
        t.status(lambda: c.fetch_jwt_svid([]),
                 grpc.StatusCode.INVALID_ARGUMENT,
                 "FetchJWTSVID without audience -> InvalidArgument",
                 workload_api.MSG_NO_AUDIENCE)
        got = c.validate_jwt_svid("kest-audit", token)
        t.check(got["spiffe_id"] == WORKLOAD
                and got["claims"]["aud"] == ["kest-audit"],
                "ValidateJWTSVID returns the SPIFFE ID and claims")
        t.status(lambda: c.validate_jwt_svid("someone-else", token),
                 grpc.StatusCode.INVALID_ARGUMENT,
                 "ValidateJWTSVID with another audience -> InvalidArgument")


def test_noid(t, tmp, certs):
    """Mode noid: PermissionDenied on every call."""
    with Server(tmp, certs, "noid") as srv, srv.client() as c:
        t.status(c.fetch_x509_svid, grpc.StatusCode.PERMISSION_DENIED,
                 "noid: FetchX509SVID -> PermissionDenied",
                 workload_api.MSG_NO_IDENTITY)
        t.status(lambda: c.fetch_jwt_svid(["a"]),
                 grpc.StatusCode.PERMISSION_DENIED,
                 "noid: FetchJWTSVID -> PermissionDenied",
                 workload_api.MSG_NO_IDENTITY)


def test_unavailable(t, tmp, certs):
    """Mode unavailable-then-ok: two Unavailable calls, then data."""
    codes = []
    with Server(tmp, certs, "unavailable-then-ok") as srv:
        for _ in range(3):
            with srv.client() as c:   # a new connection each time
                try:
                    c.fetch_x509_svid()
                    codes.append("OK")
                except grpc.RpcError as err:
                    codes.append(err.code().name)
    t.check(codes == ["UNAVAILABLE", "UNAVAILABLE", "OK"],
            "unavailable-then-ok: counted across connections", codes)


def test_multi(t, tmp, certs):
    """Mode multi: two SVIDs, workload-a first."""
    with Server(tmp, certs, "multi") as srv, srv.client() as c:
        svids = c.fetch_x509_svid()[0]["svids"]
        ids = [s["spiffe_id"] for s in svids]
        sans = [uri_sans(load_certs(s["x509_svid"])[0]) for s in svids]
        t.check(ids == ["spiffe://example.org/workload-a",
                        "spiffe://example.org/workload-b"]
                and sans == [[i] for i in ids],
                "multi: 2 SVIDs, workload-a then workload-b", ids)
        one = c.fetch_jwt_svid(["a"], "spiffe://example.org/workload-b")
        t.check([s["spiffe_id"] for s in one["svids"]]
                == ["spiffe://example.org/workload-b"],
                "multi: FetchJWTSVID honours spiffe_id")


def test_rotate(t, tmp, certs):
    """Mode rotate: a new complete SVID on the open stream."""
    with Server(tmp, certs, "rotate", "--rotate-ms", "300") as srv:
        with srv.client() as c:
            first, second = c.fetch_x509_svid(count=2)
        a, b = first["svids"][0], second["svids"][0]
        leaf_a = load_certs(a["x509_svid"])[0]
        leaf_b = load_certs(b["x509_svid"])[0]
        t.check(leaf_a.serial_number != leaf_b.serial_number
                and key_matches(leaf_b, b["x509_svid_key"]),
                "rotate: second message on the stream has a new serial")
        time.sleep(0.4)
        later = load_certs(first_svid(srv)["x509_svid"])[0]
        t.check(later.serial_number not in (leaf_a.serial_number,
                                            leaf_b.serial_number),
                "rotate: a new connection gets the newest SVID")


def test_shortlived(t, tmp, certs):
    """Mode shortlived: a fresh 3-second leaf on each call."""
    with Server(tmp, certs, "shortlived", "--ttl", "3") as srv:
        a = load_certs(first_svid(srv)["x509_svid"])[0]
        b = load_certs(first_svid(srv)["x509_svid"])[0]
    life = a.not_valid_after - a.not_valid_before
    now = datetime.datetime.utcnow()
    t.check(life == datetime.timedelta(seconds=3)
            and a.not_valid_before <= now + datetime.timedelta(seconds=1)
            and a.serial_number != b.serial_number,
            "shortlived: 3 s validity, re-minted per call", life)


def test_big_huge(t, tmp, certs):
    """Modes big (about 1 MiB, valid) and huge (over 4 MiB)."""
    with Server(tmp, certs, "big") as srv, srv.client() as c:
        raw = c.stream("FetchX509SVID")[0]
        resp = msg.decode_x509svid_response(raw)
        pad = list(resp["federated_bundles"].values())[0]
        t.check(0.9 * MIB < len(raw) <= 1.1 * MIB
                and resp["svids"][0]["spiffe_id"] == WORKLOAD
                and len(split_der(pad)) > 100,
                "big: %d bytes decode, padding is DER certs" % len(raw))
    with Server(tmp, certs, "huge") as srv:
        with srv.client() as c:
            t.status(c.fetch_x509_svid, grpc.StatusCode.RESOURCE_EXHAUSTED,
                     "huge: a 4 MiB-limited client rejects it")
        with srv.client(max_receive=16 * MIB) as c:
            raw = c.stream("FetchX509SVID")[0]
        t.check(len(raw) > 4 * MIB, "huge: message is %d bytes" % len(raw))


def test_garbage_slow(t, tmp, certs):
    """Modes garbage (undecodable frame) and slow (delayed first message)."""
    with Server(tmp, certs, "garbage") as srv, srv.client() as c:
        raw = c.stream("FetchX509SVID")[0]
        try:
            msg.decode_x509svid_response(raw)
            t.check(False, "garbage: frame is not valid protobuf")
        except pbwire.WireError as exc:
            t.check(True, "garbage: frame is not valid protobuf (%s)" % exc)
    with Server(tmp, certs, "slow", "--delay-ms", "700") as srv:
        start = time.monotonic()
        first_svid(srv)
        took = time.monotonic() - start
        t.check(took >= 0.65, "slow: first message after %.2f s" % took)


def test_otherdomain(t, tmp, certs):
    """Mode otherdomain: other.org SVID that example.org cannot verify."""
    root = read(os.path.join(certs, "root.der"))
    other = read(os.path.join(certs, "other-root.der"))
    with Server(tmp, certs, "otherdomain") as srv:
        svid = first_svid(srv)
    t.check(svid["spiffe_id"] == "spiffe://other.org/workload"
            and svid["bundle"] == other
            and not chain_valid(svid, root) and chain_valid(svid, other),
            "otherdomain: other.org SVID, not signed by example.org root")


def test_variants(t, tmp, certs):
    """noheadercheck, --leaf rsa, --leaf p256-intermediate, --tcp."""
    root = read(os.path.join(certs, "root.der"))
    with Server(tmp, certs, "noheadercheck") as srv:
        svid = first_svid(srv, metadata=())
        t.check(svid["spiffe_id"] == WORKLOAD,
                "noheadercheck: served without the header")
    with Server(tmp, certs, "ok", "--leaf", "rsa") as srv:
        svid = first_svid(srv)
        leaf = load_certs(svid["x509_svid"])[0]
        t.check(isinstance(leaf.public_key(), rsa.RSAPublicKey)
                and leaf.public_key().key_size == 2048
                and key_matches(leaf, svid["x509_svid_key"])
                and chain_valid(svid, root),
                "--leaf rsa: RSA-2048 leaf, key matches, chain verifies")
    with Server(tmp, certs, "ok", "--leaf", "p256-intermediate",
                tcp=True) as srv:
        svid = first_svid(srv)
        t.check(srv.address.startswith("tcp://127.0.0.1:")
                and len(load_certs(svid["x509_svid"])) == 2
                and chain_valid(svid, root),
                "--tcp, --leaf p256-intermediate: leaf+intermediate chain")


def test_stdout_ready(t, tmp, certs):
    """Without --ready-file the server prints "ready" once serving."""
    sock = os.path.join(tempfile.mkdtemp(dir=tmp), "api.sock")
    proc = subprocess.Popen([PYTHON, SERVER, "--socket", sock, "--certs",
                             certs, "--mode", "ok"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL,
                            preexec_fn=die_with_parent)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 15)
        line = proc.stdout.readline() if ready else b""
        ok = line == b"ready\n"
        if ok:
            with WorkloadClient("unix://" + sock) as c:
                ok = c.fetch_x509_svid()[0]["svids"][0]["spiffe_id"] \
                    == WORKLOAD
        t.check(ok, "no --ready-file: prints ready, then serves", line)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def run_all(t, tmp):
    """Make fixtures, then run every group of checks."""
    certs = os.path.join(tmp, "certs")
    subprocess.run(["sh", MKCERTS, certs], check=True, timeout=30)
    test_fixtures(t, certs)
    test_wire(t)
    test_mint_cli(t, tmp, certs)
    for group in (test_ok, test_noid, test_unavailable, test_multi,
                  test_rotate, test_shortlived, test_big_huge,
                  test_garbage_slow, test_otherdomain, test_variants,
                  test_stdout_ready):
        try:
            group(t, tmp, certs)
        except Exception as exc:  # keep going; report the group as failed
            t.check(False, group.__name__, "%s: %s"
                    % (type(exc).__name__, exc))


class Interrupted(BaseException):
    """Time budget spent or SIGTERM; not caught by the per-group handler."""


def on_alarm(signum, frame):
    """Abort when the time budget is spent (servers stop on the way out)."""
    raise Interrupted("over the %d s budget" % BUDGET_S)


def on_term(signum, frame):
    """Abort on SIGTERM so that the servers still get stopped."""
    raise Interrupted("terminated")


def main():
    """Run the self-test; exit 0 only if every check passed."""
    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(BUDGET_S)
    t = Tap()
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kest-wlapi.") as tmp:
        try:
            run_all(t, tmp)
        except (Exception, Interrupted) as exc:
            t.check(False, "test run", "%s: %s" % (type(exc).__name__, exc))
    signal.alarm(0)
    print("# %.1f s" % (time.monotonic() - start))
    print("%d passed, %d failed" % (t.passed, t.failed))
    return 1 if t.failed or not t.passed else 0


if __name__ == "__main__":
    sys.exit(main())
