# SPDX-License-Identifier: Apache-2.0
# Writes golden.jsonl and golden.head with Python alone (no kest code).
import base64, hashlib, json
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
def d(s): return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))
def e(b): return base64.urlsafe_b64encode(b).rstrip(b'=').decode()
def jcs(o): return json.dumps(o, sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode()
key = Ed25519PrivateKey.from_private_bytes(d("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"))
kid = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
prot = e(jcs({"alg": "EdDSA", "kid": kid, "typ": "JWS"}))
princ = "urn:kest:key:" + kid
def seal(p):
    pay = jcs(p)
    inp = prot + "." + e(pay)
    sig = e(key.sign(inp.encode()))
    line = b'{"payload":' + pay + b',"protected":"' + prot.encode() + b'","signature":"' + sig.encode() + b'"}'
    h = hashlib.sha256((inp + "." + sig).encode()).hexdigest()
    return line, h
base = lambda: {"schema_version": "kest-c/1", "runtime": {"name": "kest-c", "version": "0.1.0"},
    "labels": {"principal": princ}, "identity": {"provider": "static", "principal": princ},
    "process": {"pid": 4242, "instance": "00112233445566778899aabbccddeeff"}}
p1 = base(); p1.update({"entry_id": "0188f0e2-5a00-7abc-8def-0123456789ab", "operation": "start",
    "timestamp_ms": 1687000000000, "timestamp_ns": "1687000000000000000", "parent_ids": ["0"],
    "start": {"argv": ["/bin/sh", "-c", "echo caf\u00e9\t\u20ac\u007f"]}, "log_prev": "0", "seq": 1})
l1, h1 = seal(p1)
p2 = base(); p2.update({"entry_id": "0188f0e2-5a01-7abc-9def-0123456789ac", "operation": "exec",
    "timestamp_ms": 1687000000001, "timestamp_ns": "1687000000001000000", "parent_ids": [h1],
    "exec": {"path": "/bin/true", "argv": ["true"], "env": {"b64": e(b"\xffx")}}, "log_prev": h1, "seq": 2})
l2, h2 = seal(p2)
open("golden.jsonl", "wb").write(l1 + b"\n" + l2 + b"\n")
open("golden.head", "w").write(h2)
print(h1, h2)
