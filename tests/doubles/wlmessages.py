# SPDX-License-Identifier: Apache-2.0
"""Workload API messages (workload.proto, no package line) over pbwire.

Encoders take plain Python values and return bytes; decoders return
dicts whose keys are the .proto field names. Unknown fields are skipped.
Field numbers follow the current workload.proto: X509BundlesResponse
has crl = 1 and bundles = 2.
"""
import struct

from pbwire import (FIXED64, LEN, VARINT, WireError, decode_map_entry,
                    decode_text, expect_len, field_bytes, field_double,
                    field_map_entry, field_string, field_varint,
                    iter_fields)

SERVICE = "SpiffeWorkloadAPI"


def method_path(method):
    """Return the HTTP/2 :path of a Workload API method."""
    return "/%s/%s" % (SERVICE, method)


# X509SVIDResponse / X509SVID

def encode_x509svid(spiffe_id, chain, key, bundle, hint=""):
    """Encode an X509SVID; chain and bundle are concatenated DER."""
    out = field_string(1, spiffe_id) + field_bytes(2, chain)
    out += field_bytes(3, key) + field_bytes(4, bundle)
    if hint:
        out += field_string(5, hint)
    return out


def encode_x509svid_response(svids, crl=(), federated=None):
    """Encode an X509SVIDResponse from X509SVID dicts (see decode_x509svid)."""
    out = b""
    for svid in svids:
        out += field_bytes(1, encode_x509svid(
            svid["spiffe_id"], svid["x509_svid"], svid["x509_svid_key"],
            svid["bundle"], svid.get("hint", "")))
    for item in crl:
        out += field_bytes(2, item)
    for td, der in (federated or {}).items():
        out += field_map_entry(3, td, der)
    return out


def decode_x509svid(data):
    """Decode an X509SVID into a dict of its five fields."""
    svid = {"spiffe_id": "", "x509_svid": b"", "x509_svid_key": b"",
            "bundle": b"", "hint": ""}
    names = {1: "spiffe_id", 2: "x509_svid", 3: "x509_svid_key",
             4: "bundle", 5: "hint"}
    for field, wire_type, value in iter_fields(data):
        if field not in names:
            continue
        expect_len(field, wire_type)
        if field in (1, 5):
            value = decode_text(value)
        svid[names[field]] = value
    return svid


def decode_x509svid_response(data):
    """Decode an X509SVIDResponse: svids, crl, federated_bundles."""
    resp = {"svids": [], "crl": [], "federated_bundles": {}}
    for field, wire_type, value in iter_fields(data):
        if field == 1:
            expect_len(field, wire_type)
            resp["svids"].append(decode_x509svid(value))
        elif field == 2:
            expect_len(field, wire_type)
            resp["crl"].append(value)
        elif field == 3:
            expect_len(field, wire_type)
            td, der = decode_map_entry(value)
            resp["federated_bundles"][td] = der
    return resp


# X509BundlesResponse and JWTBundlesResponse

def encode_x509_bundles_response(bundles, crl=()):
    """Encode an X509BundlesResponse: crl = 1, bundles map = 2."""
    out = b"".join(field_bytes(1, item) for item in crl)
    for td, der in bundles.items():
        out += field_map_entry(2, td, der)
    return out


def decode_x509_bundles_response(data):
    """Decode an X509BundlesResponse into {"crl": [...], "bundles": {}}."""
    resp = {"crl": [], "bundles": {}}
    for field, wire_type, value in iter_fields(data):
        if field == 1:
            expect_len(field, wire_type)
            resp["crl"].append(value)
        elif field == 2:
            expect_len(field, wire_type)
            td, der = decode_map_entry(value)
            resp["bundles"][td] = der
    return resp


def encode_jwt_bundles_response(bundles):
    """Encode a JWTBundlesResponse: map td -> JWKS JSON bytes at field 1."""
    return b"".join(field_map_entry(1, td, jwks)
                    for td, jwks in bundles.items())


def decode_jwt_bundles_response(data):
    """Decode a JWTBundlesResponse into {"bundles": {td: bytes}}."""
    bundles = {}
    for field, wire_type, value in iter_fields(data):
        if field == 1:
            expect_len(field, wire_type)
            td, jwks = decode_map_entry(value)
            bundles[td] = jwks
    return {"bundles": bundles}


# JWT-SVIDs

def encode_jwtsvid_request(audience, spiffe_id=""):
    """Encode a JWTSVIDRequest: repeated audience = 1, spiffe_id = 2."""
    out = b"".join(field_string(1, aud) for aud in audience)
    if spiffe_id:
        out += field_string(2, spiffe_id)
    return out


def decode_jwtsvid_request(data):
    """Decode a JWTSVIDRequest into {"audience": [...], "spiffe_id": str}."""
    req = {"audience": [], "spiffe_id": ""}
    for field, wire_type, value in iter_fields(data):
        if field == 1:
            expect_len(field, wire_type)
            req["audience"].append(decode_text(value))
        elif field == 2:
            expect_len(field, wire_type)
            req["spiffe_id"] = decode_text(value)
    return req


def encode_jwtsvid_response(svids):
    """Encode a JWTSVIDResponse from dicts with spiffe_id, svid, hint."""
    out = b""
    for svid in svids:
        item = field_string(1, svid["spiffe_id"])
        item += field_string(2, svid["svid"])
        if svid.get("hint"):
            item += field_string(3, svid["hint"])
        out += field_bytes(1, item)
    return out


def decode_jwtsvid_response(data):
    """Decode a JWTSVIDResponse into {"svids": [dict, ...]}."""
    svids = []
    names = {1: "spiffe_id", 2: "svid", 3: "hint"}
    for field, wire_type, value in iter_fields(data):
        if field != 1:
            continue
        expect_len(field, wire_type)
        svid = {"spiffe_id": "", "svid": "", "hint": ""}
        for sub, sub_type, item in iter_fields(value):
            if sub in names:
                expect_len(sub, sub_type)
                svid[names[sub]] = decode_text(item)
        svids.append(svid)
    return {"svids": svids}


def encode_validate_request(audience, svid):
    """Encode a ValidateJWTSVIDRequest: audience = 1, svid = 2."""
    out = field_string(1, audience) if audience else b""
    return out + (field_string(2, svid) if svid else b"")


def decode_validate_request(data):
    """Decode a ValidateJWTSVIDRequest into {"audience", "svid"}."""
    req = {"audience": "", "svid": ""}
    for field, wire_type, value in iter_fields(data):
        if field in (1, 2):
            expect_len(field, wire_type)
            req["audience" if field == 1 else "svid"] = decode_text(value)
    return req


def encode_validate_response(spiffe_id, claims):
    """Encode a ValidateJWTSVIDResponse; claims become a protobuf Struct."""
    return field_string(1, spiffe_id) + field_bytes(2, encode_struct(claims))


def decode_validate_response(data):
    """Decode a ValidateJWTSVIDResponse into {"spiffe_id", "claims"}."""
    resp = {"spiffe_id": "", "claims": {}}
    for field, wire_type, value in iter_fields(data):
        if field == 1:
            expect_len(field, wire_type)
            resp["spiffe_id"] = decode_text(value)
        elif field == 2:
            expect_len(field, wire_type)
            resp["claims"] = decode_struct(value)
    return resp


# google.protobuf.Struct: Struct{map<string, Value> fields = 1};
# Value is a oneof: null 1, number 2, string 3, bool 4, struct 5, list 6;
# ListValue{repeated Value values = 1}.

def encode_value(value):
    """Encode a JSON-like Python value as a google.protobuf.Value."""
    if value is None:
        return field_varint(1, 0)
    if isinstance(value, bool):
        return field_varint(4, value)
    if isinstance(value, (int, float)):
        return field_double(2, float(value))
    if isinstance(value, str):
        return field_string(3, value)
    if isinstance(value, dict):
        return field_bytes(5, encode_struct(value))
    if isinstance(value, (list, tuple)):
        items = b"".join(field_bytes(1, encode_value(v)) for v in value)
        return field_bytes(6, items)
    raise TypeError("cannot encode %r as a Value" % (value,))


def encode_struct(mapping):
    """Encode a dict with string keys as a google.protobuf.Struct."""
    return b"".join(field_map_entry(1, key, encode_value(val))
                    for key, val in mapping.items())


def decode_value(data):
    """Decode a google.protobuf.Value into a JSON-like Python value."""
    result = None
    for field, wire_type, value in iter_fields(data):
        if field == 1 and wire_type == VARINT:
            result = None
        elif field == 2 and wire_type == FIXED64:
            result = struct.unpack("<d", value.to_bytes(8, "little"))[0]
        elif field == 3 and wire_type == LEN:
            result = decode_text(value)
        elif field == 4 and wire_type == VARINT:
            result = bool(value)
        elif field == 5 and wire_type == LEN:
            result = decode_struct(value)
        elif field == 6 and wire_type == LEN:
            result = [decode_value(item)
                      for sub, sub_type, item in iter_fields(value)
                      if sub == 1 and sub_type == LEN]
        elif field <= 6:
            raise WireError("Value field %d has wire type %d"
                            % (field, wire_type))
    return result


def decode_struct(data):
    """Decode a google.protobuf.Struct into a dict."""
    out = {}
    for field, wire_type, value in iter_fields(data):
        if field == 1:
            expect_len(field, wire_type)
            key, raw = decode_map_entry(value)
            out[key] = decode_value(raw)
    return out
