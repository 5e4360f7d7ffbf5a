import json
import math
import os
import threading
import time

import numpy as np
import pytest

from grader import protocol


@pytest.fixture
def pipe():
    read, write = os.pipe()
    yield protocol.Reader(read), write
    for fd in (read, write):
        try:
            os.close(fd)
        except OSError:
            pass


def raw_frame(header: dict, payload: bytes = b"") -> bytes:
    body = json.dumps(header).encode()
    return protocol.PREFIX.pack(protocol.MAGIC, len(body)) + body + payload


def test_arrays_and_json_round_trip(pipe):
    reader, write = pipe
    arrays = [
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.array([True, False]),
        np.arange(4, dtype=">i4"),
    ]  # a big-endian array arrives in native order
    protocol.send(write, {"ok": True, "note": "é"}, arrays)
    message = reader.receive(time.monotonic() + 5, 1 << 20)
    assert message.header["ok"] is True and message.header["note"] == "é"
    for sent, got in zip(arrays, message.arrays):
        assert np.array_equal(sent, got) and got.dtype.isnative


@pytest.mark.parametrize(
    "spec, problem",
    [
        ({"dtype": "object", "shape": [1]}, "non-numeric dtype"),
        ({"dtype": "complex128", "shape": [1]}, "non-numeric dtype"),
        ({"dtype": "float32", "shape": [-1]}, "invalid shape"),
        ({"dtype": "float32", "shape": [1.5]}, "invalid shape"),
        ({"dtype": "float32", "shape": [1] * 9}, "invalid shape"),
        ({"dtype": "float64", "shape": [1 << 20, 1 << 20]}, "over the"),
    ],
)
def test_descriptors_that_are_not_plain_numbers_are_refused(pipe, spec, problem):
    reader, write = pipe
    os.write(write, raw_frame({"arrays": [spec]}))
    with pytest.raises(protocol.ProtocolError, match=problem):
        reader.receive(time.monotonic() + 5, 1 << 20)


def test_the_array_budget_counts_every_array_of_a_message(pipe):
    reader, write = pipe
    protocol.send(write, {}, [np.zeros(100, np.float64)] * 3)  # 2400 bytes
    with pytest.raises(protocol.ProtocolError, match="over the"):
        reader.receive(time.monotonic() + 5, 2000)


def test_garbage_on_the_channel_is_not_a_message(pipe):
    reader, write = pipe
    os.write(write, b"[[19. 25.] [37. 43.]] PASSED\n")
    with pytest.raises(protocol.ProtocolError, match="not a message"):
        reader.receive(time.monotonic() + 5, 1 << 20)


def test_an_oversized_header_is_refused_before_it_is_read(pipe):
    reader, write = pipe
    os.write(write, protocol.PREFIX.pack(protocol.MAGIC, protocol.MAX_HEADER_BYTES + 1))
    with pytest.raises(protocol.ProtocolError):
        reader.receive(time.monotonic() + 5, 1 << 20)


def test_a_header_that_is_not_an_object_is_refused(pipe):
    reader, write = pipe
    os.write(write, raw_frame([1, 2, 3]))  # type: ignore[arg-type]
    with pytest.raises(protocol.ProtocolError, match="not a JSON object"):
        reader.receive(time.monotonic() + 5, 1 << 20)


def test_a_silent_sender_hits_the_deadline(pipe):
    reader, write = pipe
    os.write(write, raw_frame({"arrays": [{"dtype": "float32", "shape": [4]}]}, b"\0" * 8))
    started = time.monotonic()
    with pytest.raises(protocol.DeadlineExceeded):
        reader.receive(started + 0.3, 1 << 20)
    assert time.monotonic() - started < 2


def test_a_closed_channel_is_reported(pipe):
    reader, write = pipe
    os.write(write, protocol.PREFIX.pack(protocol.MAGIC, 10)[:5])
    os.close(write)
    with pytest.raises(protocol.ChannelClosed):
        reader.receive(time.monotonic() + 5, 1 << 20)


def test_a_large_message_arrives_whole_through_a_small_pipe(pipe):
    reader, write = pipe
    big = np.random.default_rng(0).uniform(size=(300, 300))
    sender = threading.Thread(target=protocol.send, args=(write, {"n": 1}, [big]))
    sender.start()
    message = reader.receive(time.monotonic() + 10, 1 << 22)
    sender.join()
    assert np.array_equal(message.arrays[0], big)


def test_nan_cannot_be_smuggled_into_a_header():
    with pytest.raises(ValueError):
        protocol.encode({"score": math.nan})
