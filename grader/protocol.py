"""The messages between the grader and the worker that runs student code.

A frame is: b"GRDR", a 4-byte big-endian header length, a JSON header, then the raw bytes of
each array the header lists as {"dtype", "shape"}. Nothing is pickled or evaluated. The reading
side trusts nothing: it caps the header and array sizes, accepts only numeric dtypes, computes
each array's size from its dtype and shape, and gives up at a deadline.
"""

from __future__ import annotations

import json
import math
import os
import select
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAGIC = b"GRDR"
PREFIX = struct.Struct(">4sI")
MAX_HEADER_BYTES = 1 << 20
MAX_DIMENSIONS = 8
NUMERIC_DTYPES = frozenset(
    "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64".split()
)


class ProtocolError(Exception):
    """The other side sent something that is not a well-formed message within the limits."""


class ChannelClosed(ProtocolError):
    """The other side closed the channel (for the worker: it exited)."""


class DeadlineExceeded(Exception):
    """No complete message arrived in time."""


@dataclass(frozen=True, eq=False)
class Message:
    header: dict[str, Any]
    arrays: list[np.ndarray] = field(default_factory=list)


def encode(header: dict[str, Any], arrays: list[np.ndarray] = ()) -> bytes:
    """One frame; arrays are sent C-contiguous in native byte order."""
    plain = [np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("=")) for a in arrays]
    header = {**header, "arrays": [{"dtype": a.dtype.name, "shape": list(a.shape)} for a in plain]}
    body = json.dumps(header, allow_nan=False).encode()
    return b"".join([PREFIX.pack(MAGIC, len(body)), body, *(a.tobytes() for a in plain)])


def send(fd: int, header: dict[str, Any], arrays: list[np.ndarray] = ()) -> None:
    data = memoryview(encode(header, arrays))
    while data:
        data = data[os.write(fd, data) :]


def array_size(spec: Any, max_bytes: int) -> tuple[np.dtype, tuple[int, ...], int]:
    """Validate one {"dtype", "shape"} descriptor; return the dtype, shape and byte count."""
    if not isinstance(spec, dict) or spec.get("dtype") not in NUMERIC_DTYPES:
        raise ProtocolError(f"array descriptor with a non-numeric dtype: {str(spec)[:100]}")
    shape = spec.get("shape")
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_DIMENSIONS
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
    ):
        raise ProtocolError(f"array descriptor with an invalid shape: {str(shape)[:100]}")
    dtype = np.dtype(spec["dtype"])
    nbytes = dtype.itemsize
    for n in shape:
        nbytes *= n
        if nbytes > max_bytes:
            raise ProtocolError(
                f"an array of shape {tuple(shape)} is over the {max_bytes}-byte limit"
            )
    return dtype, tuple(shape), nbytes


class Reader:
    """Reads frames from a pipe, each within a deadline and a size budget."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def read_exact(self, n: int, deadline: float) -> bytes:
        chunks, left = [], n
        while left:
            remaining = None if deadline == math.inf else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise DeadlineExceeded()
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                raise DeadlineExceeded()
            chunk = os.read(self.fd, min(left, 1 << 20))
            if not chunk:
                raise ChannelClosed("the worker closed its channel")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def receive(self, deadline: float, max_array_bytes: int) -> Message:
        magic, length = PREFIX.unpack(self.read_exact(PREFIX.size, deadline))
        if magic != MAGIC or length > MAX_HEADER_BYTES:
            raise ProtocolError("the worker's channel carried something that is not a message")
        try:
            header = json.loads(self.read_exact(length, deadline))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ProtocolError(f"a message header that is not JSON: {error}") from None
        if not isinstance(header, dict) or not isinstance(header.get("arrays", []), list):
            raise ProtocolError("a message header that is not a JSON object")
        budget, arrays = max_array_bytes, []
        for spec in header.get("arrays", []):
            dtype, shape, nbytes = array_size(spec, budget)
            budget -= nbytes
            raw = self.read_exact(nbytes, deadline)
            arrays.append(np.frombuffer(raw, dtype=dtype).reshape(shape).copy())
        return Message(header, arrays)
