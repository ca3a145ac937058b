# SPDX-License-Identifier: Apache-2.0
"""Independent check of kest records with PyJWT and cryptography.

For each key type, records written by the appender tool are rebuilt as
compact JWS and verified outside kest; the kid, the canonical payload
and the log_prev chain are recomputed here. The other way round, a
record signed here must pass `kest verify`.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    encode_dss_signature)

BUILD = os.environ.get("KEST_BUILD", "/work/main/build")
KEST = os.path.join(BUILD, "bin", "kest")
APPENDER = os.path.join(BUILD, "tests", "tools", "appender")
KEY_TYPES = {"ed25519": "EdDSA", "p256": "ES256", "rsa": "RS256"}
RECORDS = 4

results = []


def report(ok, what, note=""):
    results.append(ok)
    print("%s %d - %s" % ("ok" if ok else "not ok", len(results), what))
    if not ok and note:
        for line in str(note).splitlines()[:5]:
            print("# " + line)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# RFC 8785, enough for these payloads: objects, arrays, strings,
# integers, booleans and null. Floats are refused rather than guessed.
def jcs_string(s):
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n",
                        "\f": "\\f", "\r": "\\r"}[ch])
        elif c < 0x20:
            out.append("\\u%04x" % c)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def jcs(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        if abs(v) > 2 ** 53:
            raise ValueError("integer outside the exact double range")
        return str(v)
    if isinstance(v, str):
        return jcs_string(v)
    if isinstance(v, list):
        return "[" + ",".join(jcs(x) for x in v) + "]"
    if isinstance(v, dict):
        # Members sorted by their names as UTF-16 code units.
        keys = sorted(v, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(jcs_string(k) + ":" + jcs(v[k])
                              for k in keys) + "}"
    raise ValueError("no canonical form here for %r" % type(v))


def jcs_bytes(v):
    return jcs(v).encode("utf-8")


def thumbprint(pub):
    """RFC 7638 SHA-256 JWK thumbprint of a public key."""
    if isinstance(pub, ed25519.Ed25519PublicKey):
        raw = pub.public_bytes(serialization.Encoding.Raw,
                               serialization.PublicFormat.Raw)
        jwk = {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}
    elif isinstance(pub, ec.EllipticCurvePublicKey):
        nums = pub.public_numbers()
        jwk = {"crv": "P-256", "kty": "EC",
               "x": b64url(nums.x.to_bytes(32, "big")),
               "y": b64url(nums.y.to_bytes(32, "big"))}
    else:
        nums = pub.public_numbers()

        def unsigned(n):
            return n.to_bytes((n.bit_length() + 7) // 8, "big")
        jwk = {"e": b64url(unsigned(nums.e)), "kty": "RSA",
               "n": b64url(unsigned(nums.n))}
    return b64url(hashlib.sha256(jcs_bytes(jwk)).digest())


def payload_slice(line):
    """The payload bytes exactly as they stand in the line."""
    head = b'{"payload":'
    cut = line.rfind(b',"protected":"')
    if not line.startswith(head) or cut < 0:
        raise ValueError("not kest's line layout")
    return line[len(head):cut]


def compact(line, payload=None):
    rec = json.loads(line)
    if payload is None:
        payload = payload_slice(line)
    return "%s.%s.%s" % (rec["protected"], b64url(payload),
                         rec["signature"])


def record_hash(token):
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def crypto_verify(pub, alg, token):
    """Verify with cryptography alone; raises InvalidSignature."""
    prot, pay, sig = token.split(".")
    msg = (prot + "." + pay).encode("ascii")
    raw = b64url_decode(sig)
    if alg == "EdDSA":
        pub.verify(raw, msg)
    elif alg == "ES256":
        if len(raw) != 64:
            raise InvalidSignature("ES256 wants 64 bytes r||s")
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                   int.from_bytes(raw[32:], "big"))
        pub.verify(der, msg, ec.ECDSA(hashes.SHA256()))
    else:
        pub.verify(raw, msg, padding.PKCS1v15(), hashes.SHA256())


def jwt_verify(pub, alg, token):
    """Verify with PyJWT; returns the payload bytes it signed."""
    out = jwt.api_jws.PyJWS().decode_complete(token, key=pub,
                                              algorithms=[alg])
    return out["payload"]


def run(argv, env=None):
    return subprocess.run(argv, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60)


def make_log(tmp, kind):
    key = os.path.join(tmp, kind + ".pem")
    log = os.path.join(tmp, kind + ".log")
    r = run([KEST, "keygen", "--type", kind, "--out", key])
    report(r.returncode == 0, "%s: kest keygen" % kind, r.stderr)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEST")}
    env.update(KEST_LOG=log, KEST_KEY=key, KEST_PRINCIPAL="jose-" + kind)
    r = run([APPENDER, str(RECORDS)], env)
    report(r.returncode == 0, "%s: appender wrote %d records" %
           (kind, RECORDS), r.stderr)
    return key, key[:-4] + ".pub.pem", log


def check_canonical(kind, lines):
    bad = []
    for n, line in enumerate(lines, 1):
        rec = json.loads(line)
        mine = jcs_bytes(rec["payload"])
        std = json.dumps(rec["payload"], sort_keys=True,
                         separators=(",", ":"),
                         ensure_ascii=False).encode("utf-8")
        if not payload_slice(line) == mine == std:
            bad.append("line %d: payload differs" % n)
        if jcs_bytes(rec) != line:
            bad.append("line %d: the line is not canonical" % n)
    report(not bad, "%s: payloads are RFC 8785 canonical (own "
           "serializer and json.dumps agree with the line)" % kind,
           "\n".join(bad))


def check_headers(kind, lines, pub):
    want = {"alg": KEY_TYPES[kind], "kid": thumbprint(pub), "typ": "JWS"}
    bad = []
    for n, line in enumerate(lines, 1):
        prot = json.loads(line)["protected"]
        raw = b64url_decode(prot)
        if json.loads(raw) != want or raw != jcs_bytes(want):
            bad.append("line %d: header %r, want %r" % (n, raw, want))
    report(not bad, "%s: headers carry alg %s and the RFC 7638 kid" %
           (kind, want["alg"]), "\n".join(bad))


def check_signatures(kind, lines, pub):
    alg = KEY_TYPES[kind]
    bad = []
    for n, line in enumerate(lines, 1):
        token = compact(line)
        try:
            if jwt_verify(pub, alg, token) != payload_slice(line):
                bad.append("line %d: PyJWT returned other bytes" % n)
            crypto_verify(pub, alg, token)
        except (jwt.exceptions.PyJWTError, InvalidSignature) as e:
            bad.append("line %d: %s: %s" % (n, type(e).__name__, e))
    report(not bad, "%s: every signature verifies with PyJWT and with "
           "cryptography" % kind, "\n".join(bad))


def check_chain(kind, lines):
    prev = "0"
    start = None
    bad = []
    for n, line in enumerate(lines, 1):
        pl = json.loads(line)["payload"]
        if pl["log_prev"] != prev:
            bad.append("line %d: log_prev %s, want %s" %
                       (n, pl["log_prev"], prev))
        if pl["seq"] != n:
            bad.append("line %d: seq %d" % (n, pl["seq"]))
        if n == 1:
            start = record_hash(compact(line))
            if pl["operation"] != "start" or pl["parent_ids"] != ["0"]:
                bad.append("line 1: not a root start record")
        elif pl["operation"] != "exec" or pl["parent_ids"] != [start]:
            bad.append("line %d: not an exec under the start" % n)
        prev = record_hash(compact(line))
    report(not bad and len(lines) == RECORDS + 1,
           "%s: log_prev chain and parent_ids match SHA-256 of the "
           "compact JWS" % kind, "\n".join(bad))
    return prev


def check_tamper(kind, lines, pub):
    """One flipped payload byte must break the signature."""
    alg = KEY_TYPES[kind]
    line = lines[-1]
    pay = payload_slice(line)
    at = pay.index(b'"timestamp_ms":') + len(b'"timestamp_ms":') + 3
    digit = pay[at:at + 1]
    flipped = pay[:at] + (b"1" if digit != b"1" else b"2") + pay[at + 1:]
    token = compact(line, flipped)
    for name, fn in (("PyJWT", jwt_verify), ("cryptography",
                                             crypto_verify)):
        try:
            fn(pub, alg, token)
            ok = False
        except (jwt.exceptions.InvalidSignatureError, InvalidSignature):
            ok = True
        report(ok, "%s: a flipped payload byte fails %s" % (kind, name))
    sig = json.loads(line)["signature"]
    raw = bytearray(b64url_decode(sig))
    raw[len(raw) // 2] ^= 0x01
    token = compact(line).rsplit(".", 1)[0] + "." + b64url(bytes(raw))
    try:
        crypto_verify(pub, alg, token)
        ok = False
    except InvalidSignature:
        ok = True
    report(ok, "%s: a flipped signature bit fails" % kind)


def uuid7():
    """A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random."""
    ms = time.time_ns() // 1000000
    b = bytearray(ms.to_bytes(6, "big") + os.urandom(10))
    b[6] = 0x70 | (b[6] & 0x0F)
    b[8] = 0x80 | (b[8] & 0x3F)
    return str(uuid.UUID(bytes=bytes(b)))


def python_record(kind, priv, prev_line, head):
    """A next record signed here with PyJWT, in kest's line layout."""
    pl = json.loads(prev_line)["payload"]
    pl["entry_id"] = uuid7()
    pl["seq"] += 1
    pl["log_prev"] = head
    pl["exec"]["argv"] = ["true", "from python"]
    body = jcs_bytes(pl)
    token = jwt.api_jws.PyJWS().encode(
        body, key=priv, algorithm=KEY_TYPES[kind],
        headers={"kid": thumbprint(priv.public_key()), "typ": "JWS"})
    prot, _, sig = token.split(".")
    rec = {"payload": pl, "protected": prot, "signature": sig}
    return jcs_bytes(rec)


def kest_verify(pub, log):
    return run([KEST, "verify", "--json", "--key", pub, log])


def check_interop(kind, key, pub_path, log, lines, head):
    with open(key, "rb") as f:
        priv = serialization.load_pem_private_key(f.read(), None)
    line = python_record(kind, priv, lines[-1], head)
    with open(log, "ab") as f:
        f.write(line + b"\n")
    r = kest_verify(pub_path, log)
    try:
        out = json.loads(r.stdout)
    except ValueError:
        out = {}
    report(r.returncode == 0 and out.get("valid") is True and
           out.get("records") == RECORDS + 2 and
           out.get("head") == record_hash(compact(line)),
           "%s: kest verify accepts a record signed by PyJWT" % kind,
           r.stdout + r.stderr)
    bad = line.replace(b'"from python"', b'"from pythoN"')
    with open(log + ".bad", "wb") as f:
        f.write(b"".join(x + b"\n" for x in lines) + bad + b"\n")
    r = kest_verify(pub_path, log + ".bad")
    try:
        out = json.loads(r.stdout)
    except ValueError:
        out = {}
    issues = out.get("issues") or [{}]
    report(r.returncode == 1 and issues[0].get("line") == RECORDS + 2 and
           "bad signature" in issues[0].get("reason", ""),
           "%s: kest verify rejects it once a byte changes" % kind,
           r.stdout + r.stderr)


def check_kind(tmp, kind):
    key, pub_path, log = make_log(tmp, kind)
    with open(log, "rb") as f:
        lines = f.read().splitlines()
    with open(pub_path, "rb") as f:
        pub = serialization.load_pem_public_key(f.read())
    want = {"ed25519": ed25519.Ed25519PublicKey,
            "p256": ec.EllipticCurvePublicKey,
            "rsa": rsa.RSAPublicKey}[kind]
    report(isinstance(pub, want), "%s: public key PEM loads as %s" %
           (kind, want.__name__))
    r = kest_verify(pub_path, log)
    report(r.returncode == 0, "%s: kest verify agrees the log is valid" %
           kind, r.stdout + r.stderr)
    check_canonical(kind, lines)
    check_headers(kind, lines, pub)
    check_signatures(kind, lines, pub)
    head = check_chain(kind, lines)
    check_tamper(kind, lines, pub)
    check_interop(kind, key, pub_path, log, lines, head)


def self_test():
    """The serializer against RFC 8785 rules these payloads can meet."""
    cases = [
        ({"b": 1, "a": [True, None, "x"]}, '{"a":[true,null,"x"],"b":1}'),
        # RFC 8785 section 3.2.3: UTF-16 order puts U+1F600 (a
        # surrogate pair, D83D...) before U+FB33.
        ({"\u20ac": 1, "\r": 2, "1": 3, "\U0001f600": 4, "\u00f6": 5,
          "\ufb33": 6},
         '{"\\r":2,"1":3,"\u00f6":5,"\u20ac":1,"\U0001f600":4,'
         '"\ufb33":6}'),
        ("\x00\x1f\x7f\"\\/\u2028", '"\\u0000\\u001f\x7f\\"\\\\/\u2028"'),
        ({"n": -9007199254740992}, '{"n":-9007199254740992}'),
    ]
    bad = [repr(v) for v, want in cases if jcs(v) != want]
    report(not bad, "own RFC 8785 serializer passes its cases",
           "\n".join(bad))


def main():
    for path in (KEST, APPENDER):
        if not os.access(path, os.X_OK):
            print("Bail out! %s is missing (set KEST_BUILD)" % path)
            return 1
    self_test()
    with tempfile.TemporaryDirectory(prefix="kest-jose.") as tmp:
        for kind in KEY_TYPES:
            check_kind(tmp, kind)
    failed = results.count(False)
    print("1..%d" % len(results))
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
