"""A plain wire format for named numpy arrays: a JSON header and raw bytes, never pickle.

Both sides of the sandbox read it; the lab never unpickles anything a program produced. Headers repeat from call to
call (the same state fields every step), so both sides cache them.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

_LENGTH = struct.Struct("<I")
ALLOWED_DTYPES = frozenset({"<f8", "<f4", "<i8", "<i4", "|b1", "|u1"})


def encode(arrays: Mapping[str, Any], meta: Mapping[str, Any] | None = None) -> bytes:
    """`arrays` (numeric or bool) and a JSON-able `meta` as one message."""
    layout = []
    chunks = []
    for name, value in arrays.items():
        array = value if isinstance(value, np.ndarray) else np.asarray(value)
        if array.dtype.str not in ALLOWED_DTYPES:
            array = array.astype(np.float64)
        layout.append((name, array.dtype.str, array.shape))
        chunks.append(array.tobytes())
    head = _header(tuple(layout), json.dumps(meta or {}, sort_keys=True))
    return b"".join((_LENGTH.pack(len(head)), head, *chunks))


@lru_cache(maxsize=256)
def _header(layout: tuple[tuple[str, str, tuple[int, ...]], ...], meta: str) -> bytes:
    return json.dumps({"arrays": layout, "meta": json.loads(meta)}).encode()


def decode(message: bytes) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays (writable, sharing one fresh buffer) and the meta of a message made by `encode`."""
    (length,) = _LENGTH.unpack_from(message)
    start = _LENGTH.size + length
    layout, meta = _parse_header(bytes(message[_LENGTH.size:start]))
    payload = bytearray(message[start:])
    arrays: dict[str, np.ndarray] = {}
    offset = 0
    for name, dtype, shape, count, nbytes in layout:
        arrays[name] = np.frombuffer(payload, dtype=dtype, count=count, offset=offset).reshape(shape)
        offset += nbytes
    if offset != len(payload):
        raise ValueError(f"message carries {len(payload)} bytes of arrays, its header describes {offset}")
    return arrays, dict(meta)


@lru_cache(maxsize=256)
def _parse_header(head: bytes) -> tuple[tuple[tuple[str, np.dtype, tuple[int, ...], int, int], ...], Any]:
    parsed = json.loads(head)
    layout = []
    for name, dtype, shape in parsed["arrays"]:
        if dtype not in ALLOWED_DTYPES:
            raise ValueError(f"array {name!r} has dtype {dtype}, which the wire format does not carry")
        kind = np.dtype(dtype)
        count = math.prod(shape)
        layout.append((str(name), kind, tuple(shape), count, count * kind.itemsize))
    return tuple(layout), parsed["meta"]
