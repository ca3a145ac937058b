# SPDX-License-Identifier: Apache-2.0
"""A Workload API endpoint that fails below gRPC, HTTP/2 written by hand.

  h2_faults.py --socket PATH --certs DIR --mode MODE --ready-file F
               [--calls-log F]

grpcio always finishes what it sends, so the faults of a connection
(a peer that dies mid-message, hangs up, stalls or speaks garbage) are
played here with raw frames on a Unix socket. Modes:

  stall      accept, read, never answer (not even SETTINGS)
  hangup     accept and close at once
  garbage    answer the client preface with bytes that are not frames
  cut-close  answer the request with HEADERS and half of a real
             X509SVIDResponse (the gRPC prefix announces all of it),
             then close the connection
  cut-stall  the same, then send nothing more but keep it open
  cut-die    the same, then the process kills itself with SIGKILL

The ready file receives unix:///abs/path. --calls-log appends one JSON
line per connection: {"mode", "stream"} (stream: the request's stream
id, 0 if none was read). SIGTERM stops the double.
"""
import argparse
import json
import os
import signal
import socket
import struct
import sys
import threading

from svid_mint import CertDir
import wlmessages as msg

MODES = ("stall", "hangup", "garbage", "cut-close", "cut-stall",
         "cut-die")
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, SETTINGS = 0x0, 0x1, 0x4
END_STREAM = ACK = 0x1
END_HEADERS = 0x4
# HPACK: ":status: 200" is static entry 8; content-type (static entry 31)
# goes as a literal without indexing.
RESPONSE_HEADERS = (b"\x88" + b"\x0f\x10" + bytes([16]) +
                    b"application/grpc")


def frame(ftype, flags, stream, payload=b""):
    """One HTTP/2 frame."""
    return (struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) +
            struct.pack(">I", stream) + payload)


def read_exact(conn, n):
    """n bytes from conn, or None at end of stream."""
    out = b""
    while len(out) < n:
        got = conn.recv(n - len(out))
        if not got:
            return None
        out += got
    return out


def read_request(conn):
    """Read the client preface and frames up to the end of one request.

    Sends our SETTINGS and acknowledges the client's. Returns the
    request's stream id, or 0 if the client went away first.
    """
    if read_exact(conn, len(PREFACE)) != PREFACE:
        return 0
    conn.sendall(frame(SETTINGS, 0, 0))
    while True:
        head = read_exact(conn, 9)
        if head is None:
            return 0
        length = int.from_bytes(head[:3], "big")
        ftype, flags = head[3], head[4]
        stream = int.from_bytes(head[5:9], "big") & 0x7FFFFFFF
        if length and read_exact(conn, length) is None:
            return 0
        if ftype == SETTINGS and not flags & ACK:
            conn.sendall(frame(SETTINGS, ACK, 0))
        if ftype in (HEADERS, DATA) and flags & END_STREAM:
            return stream


def drain(conn):
    """Read and drop until the client closes."""
    while conn.recv(65536):
        pass


class Double:
    """Serves one fault per connection."""

    def __init__(self, args):
        """Prepare the half message cut-* modes send."""
        self.args = args
        self.lock = threading.Lock()
        certs = CertDir(args.certs)
        svid = {"spiffe_id": "spiffe://example.org/workload",
                "x509_svid": certs.fixture_chain("leaf-p256"),
                "x509_svid_key": certs.key_der("leaf-p256"),
                "bundle": certs.der("root"), "hint": "default"}
        whole = msg.encode_x509svid_response([svid])
        self.partial = (b"\x00" + struct.pack(">I", len(whole)) +
                        whole[:len(whole) // 2])

    def note(self, stream):
        """One line in --calls-log, if given."""
        if not self.args.calls_log:
            return
        with self.lock, open(self.args.calls_log, "a") as f:
            f.write(json.dumps({"mode": self.args.mode,
                                "stream": stream}) + "\n")

    def serve_one(self, conn):
        """Play the mode's fault on one connection."""
        mode = self.args.mode
        with conn:
            if mode == "hangup":
                self.note(0)
                return
            if mode == "stall":
                self.note(0)
                drain(conn)
                return
            if mode == "garbage":
                read_exact(conn, len(PREFACE))
                self.note(0)
                conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + os.urandom(64))
                drain(conn)
                return
            stream = read_request(conn)
            self.note(stream)
            if stream == 0:
                return
            conn.sendall(frame(HEADERS, END_HEADERS, stream,
                               RESPONSE_HEADERS))
            conn.sendall(frame(DATA, 0, stream, self.partial))
            if mode == "cut-die":
                os.kill(os.getpid(), signal.SIGKILL)
            if mode == "cut-stall":
                drain(conn)
                return
            conn.shutdown(socket.SHUT_RDWR)

    def serve_safely(self, conn):
        """serve_one, ignoring a client that went away."""
        try:
            self.serve_one(conn)
        except OSError:
            pass


def announce(path, address):
    """Write the address to the ready file atomically."""
    with open(path + ".tmp", "w") as f:
        f.write(address + "\n")
    os.replace(path + ".tmp", path)


def serve(args):
    """Accept connections until SIGTERM."""
    double = Double(args)
    path = os.path.abspath(args.socket)
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(16)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    announce(args.ready_file, "unix://" + path)
    try:
        while True:
            conn, _ = srv.accept()
            threading.Thread(target=double.serve_safely, args=(conn,),
                             daemon=True).start()
    finally:
        srv.close()
        for p in (path, args.ready_file):
            if os.path.exists(p):
                os.unlink(p)


def parse_args(argv):
    """The command line; see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", required=True)
    ap.add_argument("--certs", required=True, help="mkcerts.sh output DIR")
    ap.add_argument("--mode", choices=MODES, required=True)
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--calls-log")
    return ap.parse_args(argv)


if __name__ == "__main__":
    sys.exit(serve(parse_args(sys.argv[1:])))
