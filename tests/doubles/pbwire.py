# SPDX-License-Identifier: Apache-2.0
"""Protobuf wire format by hand: varints, tags and length-delimited fields.

Only what the Workload API messages need. Decoding is strict about
structure (truncated varints, lengths past the end, group and reserved
wire types, field number 0 all raise WireError) and lenient about
content (unknown fields are returned to the caller, who skips them).
"""
import struct

VARINT = 0
FIXED64 = 1
LEN = 2
FIXED32 = 5

MAX_VARINT_BYTES = 10


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def encode_varint(value):
    """Return the base-128 varint encoding of a non-negative integer."""
    if value < 0:
        raise ValueError("negative varint")
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def decode_varint(buf, pos):
    """Read a varint at buf[pos:]; return (value, position after it)."""
    value = 0
    for i in range(MAX_VARINT_BYTES):
        if pos + i >= len(buf):
            raise WireError("truncated varint at offset %d" % pos)
        byte = buf[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if value >= 1 << 64:
                raise WireError("varint over 64 bits at offset %d" % pos)
            return value, pos + i + 1
    raise WireError("varint longer than 10 bytes at offset %d" % pos)


def encode_tag(field, wire_type):
    """Return the key varint for a field number and wire type."""
    return encode_varint(field << 3 | wire_type)


def field_varint(field, value):
    """Encode an integer (or bool) field with wire type 0."""
    return encode_tag(field, VARINT) + encode_varint(int(value))


def field_double(field, value):
    """Encode a double field (wire type 1, little-endian IEEE 754)."""
    return encode_tag(field, FIXED64) + struct.pack("<d", value)


def field_bytes(field, data):
    """Encode a length-delimited field holding raw bytes."""
    data = bytes(data)
    return encode_tag(field, LEN) + encode_varint(len(data)) + data


def field_string(field, text):
    """Encode a string field as UTF-8."""
    return field_bytes(field, text.encode("utf-8"))


def field_map_entry(field, key, value):
    """Encode one map<string, bytes> entry: a message with key=1, value=2.

    `value` may be bytes or an already encoded embedded message.
    """
    entry = field_string(1, key) + field_bytes(2, value)
    return field_bytes(field, entry)


def iter_fields(buf):
    """Yield (field, wire_type, value) for each field of a message.

    value is an int for wire types 0, 1 and 5 and a bytes slice for 2.
    """
    buf = memoryview(bytes(buf))
    pos = 0
    while pos < len(buf):
        key, pos = decode_varint(buf, pos)
        field, wire_type = key >> 3, key & 7
        if field == 0:
            raise WireError("field number 0 at offset %d" % pos)
        if wire_type == VARINT:
            value, pos = decode_varint(buf, pos)
        elif wire_type == FIXED64:
            value, pos = _fixed(buf, pos, 8)
        elif wire_type == FIXED32:
            value, pos = _fixed(buf, pos, 4)
        elif wire_type == LEN:
            length, pos = decode_varint(buf, pos)
            if length > len(buf) - pos:
                raise WireError("length %d runs past the end at offset %d"
                                % (length, pos))
            value, pos = bytes(buf[pos:pos + length]), pos + length
        else:
            raise WireError("unsupported wire type %d" % wire_type)
        yield field, wire_type, value


def _fixed(buf, pos, size):
    """Read a little-endian fixed-width integer of `size` bytes."""
    if size > len(buf) - pos:
        raise WireError("truncated fixed%d at offset %d" % (size * 8, pos))
    return int.from_bytes(buf[pos:pos + size], "little"), pos + size


def expect_len(field, wire_type):
    """Raise WireError unless a known field arrived length-delimited."""
    if wire_type != LEN:
        raise WireError("field %d has wire type %d, want 2"
                        % (field, wire_type))


def decode_text(data):
    """Decode a string field; invalid UTF-8 is a wire error, as in proto3."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WireError("string field is not UTF-8: %s" % exc) from None


def decode_map_entry(data):
    """Decode a map<string, bytes> entry; return (key, value bytes)."""
    key, value = "", b""
    for field, wire_type, item in iter_fields(data):
        if field == 1:
            expect_len(field, wire_type)
            key = decode_text(item)
        elif field == 2:
            expect_len(field, wire_type)
            value = item
    return key, value
