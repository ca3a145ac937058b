# SPDX-License-Identifier: Apache-2.0
"""SPIFFE Workload API test double that behaves like the SPIRE agent.

Run with /usr/bin/python3 (Debian's python3-grpcio). No generated stubs:
grpcio generic handlers with raw-bytes messages, encoded by wlmessages.

  workload_api.py (--socket PATH | --tcp 127.0.0.1:PORT) --certs DIR
                  --mode MODE [--ready-file F] [--jwt-key DIR] ...

The certificate directory comes from mkcerts.sh. Once serving, the
double writes the endpoint address (unix:///abs/path or tcp://ip:port)
to the ready file, or prints "ready" on stdout. SIGTERM or SIGINT stops
it and removes the socket and the ready file.
"""
import argparse
import json
import os
import signal
import stat
import sys
import threading
import time
from concurrent import futures

import grpc
import jwt

import wlmessages as msg
from pbwire import WireError
from svid_mint import (FIXTURE_LEAF, LEAF_KINDS, CertDir, JwtAuthority,
                       jwks_json, load_jwt_authority)

MODES = ("ok", "noid", "unavailable-then-ok", "multi", "rotate",
         "shortlived", "big", "huge", "garbage", "slow", "otherdomain",
         "noheadercheck")
GARBAGE_KINDS = ("length", "varint", "wiretype", "nested")

SECURITY_HEADER = "workload.spiffe.io"
MSG_NO_HEADER = "security header missing from request"
MSG_NO_IDENTITY = "no identity issued"
MSG_NO_AUDIENCE = "audience must be specified"
MSG_UNAVAILABLE = "workload attestation failed"

EXAMPLE_TD = "spiffe://example.org"
OTHER_TD = "spiffe://other.org"
WORKLOAD_ID = EXAMPLE_TD + "/workload"
PADDING_TD = "spiffe://padding.example.org"
JWT_TTL = 300
MIB = 1 << 20


class Rejection(Exception):
    """A call the double answers with a gRPC status instead of data."""

    def __init__(self, code, message):
        """Keep the status code and its message."""
        super().__init__(message)
        self.code = code
        self.message = message


def garbage_bytes(kind):
    """A message body that is not valid protobuf, in one of four ways."""
    if kind == "varint":
        return b"\x0a\xff\xff\xff"          # length varint never ends
    if kind == "wiretype":
        return b"\x0f\x00\x00\x00"          # field 1, wire type 7
    if kind == "nested":
        inner = b"\x0a\x40spiffe://example.org"  # spiffe_id len 64 > 20
        return b"\x0a" + bytes([len(inner)]) + inner
    return b"\x0a\xc8\x01" + b"\x30" * 16   # length 200, 16 bytes follow


class Material:
    """What the double hands out in a given mode: SVIDs, bundles, keys."""

    def __init__(self, args):
        """Load the fixtures and prepare the static responses."""
        self.args = args
        self.certs = CertDir(args.certs)
        self.jwt = {EXAMPLE_TD: load_jwt_authority(args.jwt_key),
                    OTHER_TD: JwtAuthority.generate()}
        self.roots = {EXAMPLE_TD: self.certs.der("root"),
                      OTHER_TD: self.certs.der("other-root")}
        self.home = OTHER_TD if args.mode == "otherdomain" else EXAMPLE_TD
        self.static_x509 = None
        if args.mode not in ("rotate", "shortlived"):
            self.static_x509 = self._static_x509()

    def trust_domains(self):
        """Trust domains whose bundles are served: home, then federated."""
        tds = [self.home]
        if self.args.federate:
            tds.append(EXAMPLE_TD if self.home == OTHER_TD else OTHER_TD)
        return tds

    def federated(self):
        """federated_bundles for X509SVIDResponse: every non-home bundle."""
        return {td: self.roots[td] for td in self.trust_domains()[1:]}

    def fixture_svids(self):
        """X509SVID dicts built from the mkcerts.sh files for this mode."""
        if self.args.mode == "multi":
            stems = [("workload-a", EXAMPLE_TD + "/workload-a", "a"),
                     ("workload-b", EXAMPLE_TD + "/workload-b", "b")]
        elif self.args.mode == "otherdomain":
            stems = [("other-leaf", OTHER_TD + "/workload", "other")]
        else:
            stems = [(FIXTURE_LEAF[self.args.leaf], WORKLOAD_ID,
                      self.args.hint)]
        return [self.svid_dict(sid, self.certs.fixture_chain(stem),
                               self.certs.key_der(stem), hint)
                for stem, sid, hint in stems]

    def svid_dict(self, spiffe_id, chain, key, hint):
        """One X509SVID as wlmessages encodes it."""
        return {"spiffe_id": spiffe_id, "x509_svid": chain,
                "x509_svid_key": key, "bundle": self.roots[self.home],
                "hint": hint}

    def _static_x509(self):
        """The X509SVIDResponse bytes for modes whose SVIDs never change."""
        mode = self.args.mode
        if mode == "garbage":
            return garbage_bytes(self.args.garbage_kind)
        federated = self.federated()
        svids = self.fixture_svids()
        if mode in ("big", "huge"):
            target = self.args.big_bytes if mode == "big" else \
                self.args.huge_bytes
            base = len(msg.encode_x509svid_response(svids, (), federated))
            federated[PADDING_TD] = self.padding(target - base - 64)
        return msg.encode_x509svid_response(svids, (), federated)

    def padding(self, size):
        """Copies of the root certificate, about `size` bytes in all.

        Still a valid bundle (DER certificates back to back), so a client
        that parses federated bundles has nothing to choke on.
        """
        root = self.roots[EXAMPLE_TD]
        return root * max(1, size // len(root))

    def mint_x509(self, lifetime):
        """A fresh X509SVIDResponse with a newly minted leaf and key."""
        chain, key, _ = self.certs.mint(self.args.leaf, WORKLOAD_ID,
                                             lifetime)
        svid = self.svid_dict(WORKLOAD_ID, chain, key, self.args.hint)
        return msg.encode_x509svid_response([svid], (), self.federated())

    def identities(self):
        """SPIFFE IDs (with hints) the caller is entitled to."""
        return [(s["spiffe_id"], s["hint"]) for s in self.fixture_svids()]

    def x509_bundles(self):
        """X509BundlesResponse bytes."""
        if self.args.mode == "garbage":
            return garbage_bytes(self.args.garbage_kind)
        bundles = {td: self.roots[td] for td in self.trust_domains()}
        return msg.encode_x509_bundles_response(bundles)

    def jwt_bundles(self):
        """JWTBundlesResponse bytes: td -> JWKS JSON."""
        if self.args.mode == "garbage":
            return garbage_bytes(self.args.garbage_kind)
        bundles = {td: jwks_json([self.jwt[td]])
                   for td in self.trust_domains()}
        return msg.encode_jwt_bundles_response(bundles)

    def jwt_svid(self, spiffe_id, audience):
        """A compact JWS signed by the authority of spiffe_id's domain."""
        authority = self.jwt[self.home]
        now = int(time.time())
        claims = {"sub": spiffe_id, "aud": list(audience),
                  "exp": now + JWT_TTL, "iat": now}
        return jwt.encode(claims, authority.key, algorithm="ES256",
                          headers={"kid": authority.kid, "typ": "JWT"})

    def validate_jwt(self, token, audience):
        """Verify a JWT-SVID against the JWT bundles; return its claims."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            keys = [a for a in self.jwt.values() if a.kid == kid]
            if not keys:
                raise Rejection(grpc.StatusCode.INVALID_ARGUMENT,
                                "key %r not found in any bundle" % kid)
            return jwt.decode(token, keys[0].key.public_key(),
                              algorithms=["ES256"], audience=audience,
                              options={"require": ["sub", "aud", "exp"]})
        except jwt.PyJWTError as exc:
            raise Rejection(grpc.StatusCode.INVALID_ARGUMENT,
                            str(exc)) from None


class WorkloadApiDouble:
    """The gRPC service: admission like SPIRE, then the mode's material."""

    def __init__(self, args):
        """Prepare material, locks and the rotation state."""
        self.args = args
        self.material = Material(args)
        self.cond = threading.Condition()
        self.stopping = False
        self.generation = 0
        self.current = None
        self.calls = 0
        self.log_lock = threading.Lock()
        self.rotator = None
        if args.mode == "rotate":
            self.current = self.material.mint_x509(args.ttl or 3600)

    def handler(self):
        """The generic handler for service SpiffeWorkloadAPI."""
        stream = grpc.unary_stream_rpc_method_handler
        unary = grpc.unary_unary_rpc_method_handler
        return grpc.method_handlers_generic_handler(msg.SERVICE, {
            "FetchX509SVID": stream(self.fetch_x509_svid),
            "FetchX509Bundles": stream(self.fetch_x509_bundles),
            "FetchJWTBundles": stream(self.fetch_jwt_bundles),
            "FetchJWTSVID": unary(self.fetch_jwt_svid),
            "ValidateJWTSVID": unary(self.validate_jwt_svid),
            "FetchWITSVID": stream(self.unimplemented("FetchWITSVID")),
            "FetchWITBundles": stream(self.unimplemented("FetchWITBundles")),
        })

    def unimplemented(self, method):
        """A WIT-SVID method answered as SPIRE's generated stub does.

        Registered (not left to grpcio) so that, as in SPIRE, the header
        check comes first and the request is read before the status.
        """
        def refuse():
            raise Rejection(grpc.StatusCode.UNIMPLEMENTED,
                            "method %s not implemented" % method)

        def handle(request, context):
            self.admit(method, context, check_request=refuse)
            yield b""  # never reached (admit aborts); makes a generator

        return handle

    # Admission: the security header, request checks, then "attestation".

    def check_header(self, metadata):
        """SPIRE's rule: one workload.spiffe.io value, exactly "true"."""
        if self.args.mode == "noheadercheck":
            return
        values = [v for k, v in metadata if k == SECURITY_HEADER]
        if values != ["true"]:
            raise Rejection(grpc.StatusCode.INVALID_ARGUMENT, MSG_NO_HEADER)

    def attest(self):
        """Fail the way the mode says the agent fails to attest a caller."""
        mode = self.args.mode
        if mode == "noid":
            raise Rejection(grpc.StatusCode.PERMISSION_DENIED,
                            MSG_NO_IDENTITY)
        if mode == "unavailable-then-ok":
            with self.cond:
                self.calls += 1
                early = self.calls <= self.args.unavailable_count
            if early:
                raise Rejection(grpc.StatusCode.UNAVAILABLE, MSG_UNAVAILABLE)

    def admit(self, method, context, check_request=None, produce=None):
        """Run every check in SPIRE's order; abort the RPC on a rejection.

        check_request runs after the header check, produce (whose value
        is returned) after attestation; either may raise Rejection.
        """
        metadata = list(context.invocation_metadata() or ())
        result = None
        try:
            self.check_header(metadata)
            if check_request is not None:
                check_request()
            self.attest()
            if produce is not None:
                result = produce()
        except Rejection as rej:
            self.record(method, metadata, context, rej.code.name)
            context.abort(rej.code, rej.message)
        self.record(method, metadata, context, "OK")
        return result

    def record(self, method, metadata, context, status):
        """Append one JSON line about a call to --calls-log, if given."""
        if not self.args.calls_log:
            return
        entry = {"time": round(time.time(), 6), "method": method,
                 "metadata_keys": [k for k, _ in metadata],
                 "security_header": [v for k, v in metadata
                                     if k == SECURITY_HEADER],
                 "peer": context.peer(), "status": status}
        with self.log_lock, open(self.args.calls_log, "a") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")

    # Streams: first snapshot, then hold the stream open like SPIRE.

    def watch_done(self, context):
        """An Event set (with the condition notified) when the RPC ends."""
        done = threading.Event()

        def on_done():
            with self.cond:
                done.set()
                self.cond.notify_all()

        if not context.add_callback(on_done):
            done.set()
        return done

    def delay(self, done):
        """In slow mode, wait --delay-ms (or until the RPC ends)."""
        if self.args.mode != "slow":
            return
        with self.cond:
            self.cond.wait_for(lambda: done.is_set() or self.stopping,
                               self.args.delay_ms / 1000.0)

    def hold(self, done, generation):
        """Block until the RPC ends, the server stops or SVIDs rotate.

        Returns True if a rotation happened and a new snapshot is due.
        """
        def wake():
            return (done.is_set() or self.stopping
                    or self.generation != generation)

        with self.cond:
            self.cond.wait_for(wake)
            return not (done.is_set() or self.stopping)

    def snapshot_x509(self):
        """Return (generation, X509SVIDResponse bytes) for a new message."""
        if self.args.mode == "rotate":
            with self.cond:
                return self.generation, self.current
        if self.args.mode == "shortlived":
            return 0, self.material.mint_x509(self.args.ttl or 3)
        return 0, self.material.static_x509

    def fetch_x509_svid(self, request, context):
        """FetchX509SVID: snapshots until the client cancels."""
        self.admit("FetchX509SVID", context)
        done = self.watch_done(context)
        self.delay(done)
        generation, data = self.snapshot_x509()
        yield data
        while self.hold(done, generation):
            generation, data = self.snapshot_x509()
            yield data

    def fetch_static(self, method, context, build):
        """A stream whose single message never changes (bundles)."""
        self.admit(method, context)
        done = self.watch_done(context)
        self.delay(done)
        yield build()
        with self.cond:
            self.cond.wait_for(lambda: done.is_set() or self.stopping)

    def fetch_x509_bundles(self, request, context):
        """FetchX509Bundles: trust domain -> DER CA certificates."""
        yield from self.fetch_static("FetchX509Bundles", context,
                                     self.material.x509_bundles)

    def fetch_jwt_bundles(self, request, context):
        """FetchJWTBundles: trust domain -> JWKS JSON."""
        yield from self.fetch_static("FetchJWTBundles", context,
                                     self.material.jwt_bundles)

    # Unary calls.

    def decode(self, decoder, request, context):
        """Decode a request as grpc-go would, failing with Internal."""
        try:
            return decoder(request)
        except WireError as exc:
            context.abort(grpc.StatusCode.INTERNAL,
                          "grpc: error unmarshalling request: %s" % exc)

    def fetch_jwt_svid(self, request, context):
        """FetchJWTSVID: one JWT-SVID per identity (or the one asked for)."""
        req = self.decode(msg.decode_jwtsvid_request, request, context)

        def check():
            if not req["audience"]:
                raise Rejection(grpc.StatusCode.INVALID_ARGUMENT,
                                MSG_NO_AUDIENCE)
            if req["spiffe_id"] and \
                    not req["spiffe_id"].startswith("spiffe://"):
                raise Rejection(grpc.StatusCode.INVALID_ARGUMENT,
                                "invalid requested SPIFFE ID")

        def produce():
            self.delay(self.watch_done(context))
            if self.args.mode == "garbage":
                return garbage_bytes(self.args.garbage_kind)
            svids = [{"spiffe_id": sid, "hint": hint,
                      "svid": self.material.jwt_svid(sid, req["audience"])}
                     for sid, hint in self.material.identities()
                     if req["spiffe_id"] in ("", sid)]
            if not svids:
                raise Rejection(grpc.StatusCode.PERMISSION_DENIED,
                                MSG_NO_IDENTITY)
            return msg.encode_jwtsvid_response(svids)

        return self.admit("FetchJWTSVID", context, check, produce)

    def validate_jwt_svid(self, request, context):
        """ValidateJWTSVID: check a token against the JWT bundles."""
        req = self.decode(msg.decode_validate_request, request, context)

        def check():
            if not req["audience"]:
                raise Rejection(grpc.StatusCode.INVALID_ARGUMENT,
                                MSG_NO_AUDIENCE)
            if not req["svid"]:
                raise Rejection(grpc.StatusCode.INVALID_ARGUMENT,
                                "svid must be specified")

        def produce():
            claims = self.material.validate_jwt(req["svid"], req["audience"])
            return msg.encode_validate_response(claims["sub"], claims)

        return self.admit("ValidateJWTSVID", context, check, produce)

    # Lifecycle.

    def rotate_loop(self, stop):
        """Mint a new SVID every --rotate-ms and wake the open streams."""
        period = self.args.rotate_ms / 1000.0
        while not stop.wait(period):
            data = self.material.mint_x509(self.args.ttl or 3600)
            with self.cond:
                self.current = data
                self.generation += 1
                self.cond.notify_all()

    def start_rotation(self, stop):
        """Start the rotation thread in rotate mode."""
        if self.args.mode == "rotate":
            self.rotator = threading.Thread(target=self.rotate_loop,
                                            args=(stop,), daemon=True)
            self.rotator.start()

    def shutdown(self):
        """Wake every held stream so the server can stop."""
        with self.cond:
            self.stopping = True
            self.cond.notify_all()


def bind(server, args):
    """Add the listening port; return the address in SPIFFE form."""
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        bound = server.add_insecure_port("%s:%s" % (host, port))
        if not bound:
            raise SystemExit("workload_api: cannot listen on %s" % args.tcp)
        return "tcp://%s:%d" % (host, bound)
    path = os.path.abspath(args.socket)
    remove_stale_socket(path)
    if not server.add_insecure_port("unix:" + path):
        raise SystemExit("workload_api: cannot listen on %s" % path)
    return "unix://" + path


def remove_stale_socket(path):
    """Unlink a socket file left by an earlier run; refuse other files."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise SystemExit("workload_api: %s exists and is not a socket" % path)
    os.unlink(path)


def announce(args, address):
    """Tell the launcher we serve: ready file (atomic) or stdout."""
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(address + "\n")
        os.replace(tmp, args.ready_file)
    else:
        print("ready", flush=True)


def cleanup_files(args, address):
    """Remove the socket and the ready file on the way out."""
    paths = [args.ready_file] if args.ready_file else []
    if address.startswith("unix://"):
        paths.append(address[len("unix://"):])
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def serve(args):
    """Run the double until SIGTERM or SIGINT."""
    double = WorkloadApiDouble(args)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=args.workers),
        options=[("grpc.max_send_message_length", -1),
                 ("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((double.handler(),))
    address = bind(server, args)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    double.start_rotation(stop)
    announce(args, address)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        stop.set()
        double.shutdown()
        server.stop(grace=0.5).wait()
        cleanup_files(args, address)
    return 0


def parse_args(argv):
    """The command line; see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--socket", help="Unix socket path to listen on")
    where.add_argument("--tcp", help="IP:PORT to listen on (PORT 0: any)")
    ap.add_argument("--certs", required=True, help="mkcerts.sh output DIR")
    ap.add_argument("--mode", choices=MODES, default="ok")
    ap.add_argument("--ready-file", help="write the address here when ready")
    ap.add_argument("--jwt-key", help="DIR for the persistent JWT key")
    ap.add_argument("--leaf", choices=LEAF_KINDS, default="p256")
    ap.add_argument("--hint", default="default", help="X509SVID hint")
    ap.add_argument("--federate", action="store_true",
                    help="also serve the other trust domain's bundle")
    ap.add_argument("--calls-log", help="append a JSON line per call")
    ap.add_argument("--rotate-ms", type=int, default=1000)
    ap.add_argument("--ttl", type=int, help="minted leaf lifetime, seconds "
                    "(shortlived: 3, rotate: 3600)")
    ap.add_argument("--delay-ms", type=int, default=2000)
    ap.add_argument("--unavailable-count", type=int, default=2)
    ap.add_argument("--big-bytes", type=int, default=MIB)
    ap.add_argument("--huge-bytes", type=int, default=5 * MIB)
    ap.add_argument("--garbage-kind", choices=GARBAGE_KINDS,
                    default="length")
    ap.add_argument("--workers", type=int, default=32,
                    help="thread pool size; each open stream holds one")
    args = ap.parse_args(argv)
    if args.tcp and ":" not in args.tcp:
        ap.error("--tcp wants IP:PORT")
    if args.rotate_ms <= 0 or args.delay_ms < 0:
        ap.error("--rotate-ms must be positive, --delay-ms not negative")
    return args


if __name__ == "__main__":
    sys.exit(serve(parse_args(sys.argv[1:])))
