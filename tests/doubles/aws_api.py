#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""AWS test double for kest: STS, KMS and a container credentials
endpoint on 127.0.0.1, checking every SigV4 signature with botocore.

  aws_api.py keygen DIR
      DIR/kms.pem (the KMS key, P-256), DIR/kms.pub.pem, DIR/users.json
      (access key -> secret, ARN), DIR/web.token, DIR/container.token.
  aws_api.py vector
      print the SigV4 steps botocore computes for tests/test_sigv4.c.
  aws_api.py serve DIR --ready-file F [--mode MODE] [--delay-ms N]
                [--calls-log F] [--cred-ttl N]
      POST / is STS (form body, Action=) or KMS (X-Amz-Target); POST
      /identities/OP is Bedrock AgentCore; GET /creds is the container
      endpoint. A request whose signature does
      not verify gets 403. The ready file receives http://127.0.0.1:PORT.
      MODE: ok, slow (every reply after --delay-ms), kms-denied, 500
      (every reply), truncated (a third of each body, then close) or
      hangup (no reply at all, the connection closes).
"""
import argparse
import base64
import datetime
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
ACCOUNT = "111122223333"


def write_pem(path, data):
    with open(path, "wb") as f:
        f.write(data)


def cmd_keygen(a):
    os.makedirs(a.dir, exist_ok=True)
    k = ec.generate_private_key(ec.SECP256R1())
    write_pem(os.path.join(a.dir, "kms.pem"), k.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    write_pem(os.path.join(a.dir, "kms.pub.pem"), k.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo))
    users = {
        "AKIAKESTTEST": {
            "secret": base64.b64encode(os.urandom(30)).decode(),
            "arn": "arn:aws:iam::%s:user/kest-ci" % ACCOUNT},
    }
    with open(os.path.join(a.dir, "users.json"), "w") as f:
        json.dump(users, f)
    for name in ("web.token", "container.token"):
        with open(os.path.join(a.dir, name), "w") as f:
            f.write(base64.urlsafe_b64encode(os.urandom(24)).decode() + "\n")


def sigv4_steps(method, url, headers, body, ak, secret, token, region,
                service, amz_date):
    req = AWSRequest(method=method, url=url, data=body, headers=headers)
    auth = SigV4Auth(Credentials(ak, secret, token), service, region)
    req.context["timestamp"] = amz_date
    canon = auth.canonical_request(req)
    sts = auth.string_to_sign(req, canon)
    return canon, sts, auth.signature(sts, req)


def cmd_vector(a):
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    cases = [
        ("https://sts.us-east-1.amazonaws.com/",
         {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
          "Host": "sts.us-east-1.amazonaws.com",
          "X-Amz-Date": "20150830T123600Z"},
         b"Action=GetCallerIdentity&Version=2011-06-15", "us-east-1", "sts"),
        ("http://127.0.0.1:8080/",
         {"Content-Type": "application/x-amz-json-1.1",
          "Host": "127.0.0.1:8080", "X-Amz-Date": "20240229T235959Z",
          "X-Amz-Target": "TrentService.Sign",
          "X-Amz-Security-Token": "tok+/=en", "X-Custom": "  a   b  c "},
         b'{"KeyId":"k"}', "eu-west-1", "kms"),
    ]
    for url, hdrs, body, region, service in cases:
        for part in sigv4_steps("POST", url, hdrs, body, "AKIDEXAMPLE",
                                secret, None, region, service,
                                hdrs["X-Amz-Date"]):
            print(json.dumps(part))


def parse_auth(value):
    """Credential scope, signed header names and signature."""
    if not value or not value.startswith("AWS4-HMAC-SHA256 "):
        return None
    parts = {}
    for item in value[len("AWS4-HMAC-SHA256 "):].split(","):
        k, _, v = item.strip().partition("=")
        parts[k] = v
    try:
        ak, date, region, service, term = parts["Credential"].split("/")
    except (KeyError, ValueError):
        return None
    if term != "aws4_request" or "Signature" not in parts:
        return None
    return {"ak": ak, "date": date, "region": region, "service": service,
            "signed": parts.get("SignedHeaders", "").split(";"),
            "signature": parts["Signature"]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def note(self, op, status):
        srv = self.server
        with srv.lock:
            if srv.calls_log:
                with open(srv.calls_log, "a") as f:
                    f.write(json.dumps({"op": op, "status": status}) + "\n")

    def reply(self, op, status, data, ctype):
        mode = self.server.mode
        if mode == "slow":
            time.sleep(self.server.delay_ms / 1000.0)
        if mode == "500":
            status, data = 500, b'{"message":"internal error"}'
        if mode == "hangup":
            self.note(op, 0)
            self.close_connection = True
            return
        self.note(op, status)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
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

    def xml(self, op, status, inner):
        body = ('<?xml version="1.0"?>\n<%sResponse xmlns="https://sts.'
                'amazonaws.com/doc/2011-06-15/"><%sResult>%s</%sResult>'
                '</%sResponse>' % (op, op, inner, op, op))
        self.reply(op, status, body.encode(), "text/xml")

    def xml_error(self, op, status, code):
        body = ('<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code>'
                '<Message>%s</Message></Error></ErrorResponse>' % (code, op))
        self.reply(op, status, body.encode(), "text/xml")

    def json_reply(self, op, status, obj):
        self.reply(op, status, json.dumps(obj).encode(),
                   "application/x-amz-json-1.1")

    def check_sigv4(self, body):
        """The caller's user record, or None if the signature is wrong."""
        a = parse_auth(self.headers.get("Authorization"))
        if a is None:
            return None
        user = self.server.users.get(a["ak"])
        if user is None:
            return None
        token = user.get("token")
        if token is not None and \
                self.headers.get("X-Amz-Security-Token") != token:
            return None
        amz_date = self.headers.get("X-Amz-Date", "")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
        except ValueError:
            return None
        now = datetime.datetime.utcnow()
        if abs((now - when).total_seconds()) > 900 or \
                amz_date[:8] != a["date"]:
            return None
        hdrs = {}
        for name in a["signed"]:
            if self.headers.get(name) is None:
                return None
            hdrs[name] = self.headers.get(name)
        url = "http://%s%s" % (self.headers.get("Host"), self.path)
        _, _, sig = sigv4_steps("POST", url, hdrs, body, a["ak"],
                                user["secret"], token, a["region"],
                                a["service"], amz_date)
        return user if sig == a["signature"] else None

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        if self.path.startswith("/identities/"):
            self.agentcore(self.path[len("/identities/"):], body)
            return
        target = self.headers.get("X-Amz-Target")
        if target is not None:
            self.kms(target, body)
            return
        form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True)
        action = form.get("Action", [""])[0]
        if action == "AssumeRoleWithWebIdentity":
            self.assume_role(form)
            return
        if action != "GetCallerIdentity":
            self.xml_error(action or "?", 400, "InvalidAction")
            return
        user = self.check_sigv4(body)
        if user is None:
            self.xml_error(action, 403, "SignatureDoesNotMatch")
            return
        self.xml(action, 200, "<Arn>%s</Arn><UserId>AIDAKEST</UserId>"
                 "<Account>%s</Account>" % (user["arn"], ACCOUNT))

    def agentcore(self, op, body):
        """GetWorkloadAccessToken[ForJWT|ForUserId]; the workload
        "missing" does not exist."""
        fields = {"GetWorkloadAccessToken": [],
                  "GetWorkloadAccessTokenForJWT": ["userToken"],
                  "GetWorkloadAccessTokenForUserId": ["userId"]}
        if op not in fields:
            self.json_reply(op, 404, {"message": "unknown operation"})
            return
        if self.check_sigv4(body) is None:
            self.json_reply(op, 403, {"__type": "AccessDeniedException",
                                      "message": "signature mismatch"})
            return
        try:
            req = json.loads(body)
        except ValueError:
            req = {}
        name = req.get("workloadName", "")
        ok = 3 <= len(name) <= 255 and all(
            c.isascii() and (c.isalnum() or c in "_.-") for c in name)
        if not ok or any(not req.get(f) for f in fields[op]):
            self.json_reply(op, 400, {"__type": "ValidationException",
                                      "message": "bad request"})
            return
        if name == "missing":
            self.json_reply(op, 404, {"__type": "ResourceNotFoundException",
                                      "message": "no such workload"})
            return
        self.json_reply(op, 200, {"workloadAccessToken": "wat." +
                                  base64.urlsafe_b64encode(
                                      os.urandom(32)).decode()})

    def expiration(self):
        ttl = self.server.cred_ttl
        if ttl <= 0:
            return "2099-01-01T00:00:00Z"
        when = datetime.datetime.utcnow() + datetime.timedelta(seconds=ttl)
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")

    def temp_user(self, arn):
        ak = "ASIA" + base64.b32encode(os.urandom(10)).decode()
        user = {"secret": base64.b64encode(os.urandom(30)).decode(),
                "token": base64.b64encode(os.urandom(48)).decode(),
                "arn": arn}
        with self.server.lock:
            self.server.users[ak] = user
        return ak, user

    def assume_role(self, form):
        op = "AssumeRoleWithWebIdentity"
        tok = form.get("WebIdentityToken", [""])[0]
        role = form.get("RoleArn", [""])[0]
        sess = form.get("RoleSessionName", [""])[0]
        if tok != self.server.web_token or not role.startswith("arn:aws:"):
            self.xml_error(op, 403, "AccessDenied")
            return
        arn = "arn:aws:sts::%s:assumed-role/%s/%s" % (
            ACCOUNT, role.rsplit("/", 1)[-1], sess)
        ak, user = self.temp_user(arn)
        self.xml(op, 200, "<Credentials><AccessKeyId>%s</AccessKeyId>"
                 "<SecretAccessKey>%s</SecretAccessKey><SessionToken>%s"
                 "</SessionToken><Expiration>%s</Expiration></Credentials>"
                 % (ak, user["secret"], user["token"], self.expiration()))

    def kms(self, target, body):
        srv = self.server
        op = target.split(".")[-1]
        if self.check_sigv4(body) is None:
            self.json_reply(op, 403, {"__type": "InvalidSignatureException",
                                      "message": "signature mismatch"})
            return
        req = json.loads(body)
        if req.get("KeyId") not in (KEY_ID, "alias/kest"):
            self.json_reply(op, 400, {"__type": "NotFoundException",
                                      "message": "no such key"})
            return
        if srv.mode == "kms-denied":
            self.json_reply(op, 400, {"__type": "AccessDeniedException",
                                      "message": "not authorized"})
            return
        if op == "GetPublicKey":
            der = srv.kms_key.public_key().public_bytes(
                serialization.Encoding.DER,
                serialization.PublicFormat.SubjectPublicKeyInfo)
            self.json_reply(op, 200, {
                "KeyId": KEY_ID, "KeySpec": "ECC_NIST_P256",
                "KeyUsage": "SIGN_VERIFY",
                "SigningAlgorithms": ["ECDSA_SHA_256"],
                "PublicKey": base64.b64encode(der).decode()})
        elif op == "Sign":
            self.kms_sign(req)
        else:
            self.json_reply(op, 400, {"__type": "UnknownOperationException"})

    def kms_sign(self, req):
        msg = base64.b64decode(req.get("Message", ""))
        if req.get("SigningAlgorithm") != "ECDSA_SHA_256":
            self.json_reply("Sign", 400, {"__type": "ValidationException"})
            return
        if req.get("MessageType") == "DIGEST":
            if len(msg) != 32:
                self.json_reply("Sign", 400,
                                {"__type": "ValidationException"})
                return
            algo = ec.ECDSA(utils.Prehashed(hashes.SHA256()))
        else:
            algo = ec.ECDSA(hashes.SHA256())
        sig = self.server.kms_key.sign(msg, algo)
        self.json_reply("Sign", 200, {
            "KeyId": KEY_ID, "SigningAlgorithm": "ECDSA_SHA_256",
            "Signature": base64.b64encode(sig).decode()})

    def do_GET(self):
        if self.path != "/creds":
            self.json_reply("GET", 404, {"message": "not found"})
            return
        if self.headers.get("Authorization") != self.server.container_token:
            self.json_reply("container", 403, {"message": "bad token"})
            return
        ak, user = self.temp_user(
            "arn:aws:sts::%s:assumed-role/kest-task/task-1" % ACCOUNT)
        self.json_reply("container", 200, {
            "AccessKeyId": ak, "SecretAccessKey": user["secret"],
            "Token": user["token"], "Expiration": self.expiration()})


def read_text(path):
    with open(path) as f:
        return f.read().strip()


def cmd_serve(a):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.mode = a.mode
    srv.delay_ms = a.delay_ms
    srv.calls_log = a.calls_log
    srv.cred_ttl = a.cred_ttl
    srv.lock = threading.Lock()
    with open(os.path.join(a.dir, "users.json")) as f:
        srv.users = json.load(f)
    with open(os.path.join(a.dir, "kms.pem"), "rb") as f:
        srv.kms_key = serialization.load_pem_private_key(f.read(), None)
    srv.web_token = read_text(os.path.join(a.dir, "web.token"))
    srv.container_token = read_text(os.path.join(a.dir, "container.token"))
    url = "http://127.0.0.1:%d" % srv.server_address[1]

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    with open(a.ready_file + ".tmp", "w") as f:
        f.write(url + "\n")
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
    sub.add_parser("vector")
    s = sub.add_parser("serve")
    s.add_argument("dir")
    s.add_argument("--ready-file", required=True)
    s.add_argument("--mode", default="ok",
                   choices=["ok", "slow", "kms-denied", "500",
                            "truncated", "hangup"])
    s.add_argument("--delay-ms", type=int, default=5000)
    s.add_argument("--calls-log")
    s.add_argument("--cred-ttl", type=int, default=0,
                   help="temporary credentials expire after N s "
                   "(0: in 2099)")
    a = p.parse_args()
    {"keygen": cmd_keygen, "vector": cmd_vector,
     "serve": cmd_serve}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
