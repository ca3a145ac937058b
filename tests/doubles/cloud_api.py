#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Cloud identity test double for kest: an OIDC issuer over HTTP.

  cloud_api.py keygen DIR
      EC P-256 signing key (kid k1), a second key the issuer does not
      publish (kid stray), an HMAC secret, and DIR/jwks.json.
  cloud_api.py mint DIR OUT --iss URL [--sub S] [--aud A]... [--exp-in N]
                [--nbf-in N] [--kid K] [--alg ES256|HS256|none] [--key stray]
      write one token (no trailing newline) to OUT.
  cloud_api.py serve DIR --ready-file F
                [--mode ok|500|slow|truncated|hangup] [--delay-ms N]
                [--calls-log F]
      HTTP on 127.0.0.1:0 serving /.well-known/openid-configuration and
      /jwks; the ready file receives the issuer URL http://127.0.0.1:PORT.
      hangup reads each request and closes without an answer.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64u(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(key, kid):
    nums = key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256",
            "use": "sig", "x": b64u(nums.x.to_bytes(32, "big")),
            "y": b64u(nums.y.to_bytes(32, "big"))}


def write_key(path, key):
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    with open(path, "wb") as f:
        f.write(pem)


def load_key(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def cmd_keygen(a):
    os.makedirs(a.dir, exist_ok=True)
    k1 = ec.generate_private_key(ec.SECP256R1())
    stray = ec.generate_private_key(ec.SECP256R1())
    write_key(os.path.join(a.dir, "k1.pem"), k1)
    write_key(os.path.join(a.dir, "stray.pem"), stray)
    with open(os.path.join(a.dir, "hmac.secret"), "wb") as f:
        f.write(os.urandom(32))
    with open(os.path.join(a.dir, "jwks.json"), "w") as f:
        json.dump({"keys": [public_jwk(k1, "k1")]}, f)
    with open(os.path.join(a.dir, "stray-jwks.json"), "w") as f:
        json.dump({"keys": [public_jwk(stray, "k1")]}, f)


def unsigned(header, claims, sig=b""):
    head = b64u(json.dumps(header).encode())
    body = b64u(json.dumps(claims).encode())
    return head + "." + body + "." + (b64u(sig) if sig else "")


def cmd_mint(a):
    now = int(time.time())
    claims = {"iss": a.iss, "sub": a.sub, "iat": now,
              "exp": now + a.exp_in}
    if a.aud:
        claims["aud"] = a.aud[0] if len(a.aud) == 1 else a.aud
    if a.nbf_in is not None:
        claims["nbf"] = now + a.nbf_in
    header = {"kid": a.kid}
    if a.alg == "none":
        tok = unsigned({"alg": "none", "typ": "JWT", "kid": a.kid}, claims)
    elif a.alg == "HS256":
        # HMAC keyed with the issuer's public JWK text: the classic
        # alg/key confusion, built by hand because python3-jwt refuses.
        with open(os.path.join(a.dir, "jwks.json")) as f:
            secret = json.dumps(json.load(f)["keys"][0]).encode()
        hdr = {"alg": "HS256", "typ": "JWT", "kid": a.kid}
        head = b64u(json.dumps(hdr).encode()) + "." + \
            b64u(json.dumps(claims).encode())
        mac = hmac.new(secret, head.encode(), hashlib.sha256).digest()
        tok = head + "." + b64u(mac)
    else:
        key = load_key(os.path.join(a.dir, a.key + ".pem"))
        tok = jwt.encode(claims, key, algorithm=a.alg, headers=header)
    with open(a.out + ".tmp", "w") as f:
        f.write(tok)
    os.replace(a.out + ".tmp", a.out)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        srv = self.server
        with srv.lock:
            srv.calls.append(self.path)
            if srv.calls_log:
                with open(srv.calls_log, "a") as f:
                    f.write(json.dumps({"path": self.path,
                                        "mode": srv.mode}) + "\n")
        if self.path == "/.well-known/openid-configuration":
            body = {"issuer": srv.issuer, "jwks_uri": srv.issuer + "/jwks",
                    "id_token_signing_alg_values_supported": ["ES256"]}
        elif self.path == "/jwks":
            with open(os.path.join(srv.dir, "jwks.json")) as f:
                body = json.load(f)
        else:
            self.reply(404, b'{"error":"not found"}')
            return
        self.reply(200, json.dumps(body).encode())

    def reply(self, status, data):
        mode = self.server.mode
        if mode == "slow":
            time.sleep(self.server.delay_ms / 1000.0)
        if mode == "500":
            status, data = 500, b'{"error":"internal"}'
        if mode == "hangup":
            # Not a byte of an answer: the connection just closes.
            self.close_connection = True
            return
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if mode == "truncated":
            # Promise the whole body, send a third, hang up.
            self.wfile.write(data[:len(data) // 3])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)


def cmd_serve(a):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.dir = a.dir
    srv.mode = a.mode
    srv.delay_ms = a.delay_ms
    srv.calls_log = a.calls_log
    srv.calls = []
    srv.lock = threading.Lock()
    srv.issuer = "http://127.0.0.1:%d" % srv.server_address[1]

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    with open(a.ready_file + ".tmp", "w") as f:
        f.write(srv.issuer + "\n")
    os.replace(a.ready_file + ".tmp", a.ready_file)
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        srv.server_close()
        try:
            os.unlink(a.ready_file)
        except FileNotFoundError:
            pass


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("keygen")
    k.add_argument("dir")
    m = sub.add_parser("mint")
    m.add_argument("dir")
    m.add_argument("out")
    m.add_argument("--iss", required=True)
    m.add_argument("--sub", default="alice")
    m.add_argument("--aud", action="append", default=[])
    m.add_argument("--exp-in", type=int, default=3600)
    m.add_argument("--nbf-in", type=int)
    m.add_argument("--kid", default="k1")
    m.add_argument("--alg", default="ES256",
                   choices=["ES256", "HS256", "none"])
    m.add_argument("--key", default="k1", choices=["k1", "stray"])
    s = sub.add_parser("serve")
    s.add_argument("dir")
    s.add_argument("--ready-file", required=True)
    s.add_argument("--mode", default="ok",
                   choices=["ok", "500", "slow", "truncated", "hangup"])
    s.add_argument("--delay-ms", type=int, default=5000)
    s.add_argument("--calls-log")
    a = p.parse_args()
    {"keygen": cmd_keygen, "mint": cmd_mint, "serve": cmd_serve}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
