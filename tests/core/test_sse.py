"""The SSE decoder against the spec's edge cases and the recorded GLM streams, split anywhere."""

from __future__ import annotations

import pytest
from core_support import recording

from anyfast_core.sse import DONE, SSEDecoder, is_done


def decode(*pieces: bytes) -> list[bytes]:
    decoder = SSEDecoder()
    return [payload for piece in pieces for payload in decoder.feed(piece)] + decoder.flush()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(b'data: {"a":1}\n\ndata: [DONE]\n\n', [b'{"a":1}', DONE], id="lf"),
        pytest.param(b'data: {"a":1}\r\n\r\ndata: [DONE]\r\n\r\n', [b'{"a":1}', DONE], id="crlf"),
        pytest.param(b'data: {"a":1}\r\rdata: [DONE]\r\r', [b'{"a":1}', DONE], id="cr"),
        pytest.param(b'data: {"a":1}\r\n\ndata: [DONE]\n\r\n', [b'{"a":1}', DONE], id="mixed-line-ends"),
        pytest.param(b'data:{"a":1}\n\n', [b'{"a":1}'], id="data-without-space"),
        pytest.param(b"data:  two spaces\n\n", [b" two spaces"], id="only-one-space-is-stripped"),
        pytest.param(b": PING\n\ndata: x\n\n: keep-alive\n\n", [b"x"], id="comments-are-keep-alives"),
        pytest.param(b":\n:PING\ndata: x\n\n", [b"x"], id="comment-inside-event"),
        pytest.param(b"data: a\ndata: b\ndata: c\n\n", [b"a\nb\nc"], id="multi-line-data"),
        pytest.param(b"event: message\nid: 7\nretry: 100\ndata: x\n\n", [b"x"], id="other-fields-ignored"),
        pytest.param(b"data: x\n\n\n\n\ndata: y\n\n", [b"x", b"y"], id="extra-blank-lines"),
        pytest.param(b"data:\n\ndata: \n\n", [], id="empty-data-not-dispatched"),
        pytest.param(b"data\ndata\n\n", [b"\n"], id="field-name-alone"),
        pytest.param(b"\xef\xbb\xbfdata: x\n\n", [b"x"], id="leading-bom"),
        pytest.param(b"data: [DONE]", [DONE], id="done-without-blank-line"),
        pytest.param(b"data: [DONE]\n", [DONE], id="done-without-second-newline"),
        pytest.param(b"data: [DONE]\r\n", [DONE], id="done-crlf-without-blank-line"),
        pytest.param(b"data: [DONE] \t", [DONE], id="done-trailing-whitespace-without-blank-line"),
        pytest.param(b'data: {"a":1}\n\ndata: {"cut', [b'{"a":1}'], id="unterminated-event-discarded"),
        pytest.param(b'data: {"a":1}', [], id="unterminated-json-discarded"),
        pytest.param("data: 你好 🌍\n\n".encode(), ["你好 🌍".encode()], id="utf8-multibyte"),
        pytest.param(b"", [], id="empty-body"),
    ],
)
def test_decoder_edge_cases(body: bytes, expected: list[bytes]) -> None:
    assert decode(body) == expected
    # The same bytes fed one at a time give the same events: no boundary is special.
    assert decode(*[body[i : i + 1] for i in range(len(body))]) == expected


SPLIT_SAMPLES = [
    b'data: {"a":1}\r\n\r\n: PING\r\n\r\ndata:{"b":2}\r\ndata: more\r\n\r\ndata: [DONE]\r\n\r\n',
    b'data: {"a":1}\r\rdata: x\r\rdata: [DONE]',
    "data: é€😀\n\ndata: [DONE]\n\n".encode(),
]


@pytest.mark.parametrize("body", SPLIT_SAMPLES)
def test_every_two_and_three_way_split_decodes_the_same(body: bytes) -> None:
    expected = decode(body)
    n = len(body)
    for i in range(n + 1):
        assert decode(body[:i], body[i:]) == expected, i
        for j in range(i, n + 1):
            assert decode(body[:i], body[i:j], body[j:]) == expected, (i, j)


@pytest.mark.parametrize(
    "name",
    [
        "zai-glm-4.5_tool_streaming.1.sse",
        "zai-glm-4.5_tool_streaming.2.sse",
        "zai-glm-4.6v_multi_tool_streaming.1.sse",
        "zai-glm-4.6v_multi_tool_streaming.2.sse",
    ],
)
@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 1000, 10**6])
def test_recordings_decode_the_same_in_any_chunk_size(name: str, size: int) -> None:
    body = recording(name)
    events = decode(*[body[i : i + size] for i in range(0, len(body), size)])
    assert events[-1] == DONE
    assert events == [line[6:] for line in body.split(b"\n") if line.startswith(b"data: ")]
    crlf = body.replace(b"\n", b"\r\n")
    assert decode(*[crlf[i : i + size] for i in range(0, len(crlf), size)]) == events


def test_empty_chunks_do_not_lose_a_pending_cr() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"") == []
    assert decoder.feed(b"\ndata: b\r") == []  # the LF completes the CRLF: not a blank line
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"\r\n") == [b"a\nb"]


def test_flush_resets_the_decoder() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: partial") == []
    assert decoder.flush() == []
    assert decoder.feed(b"data: x\n\n") == [b"x"]


@pytest.mark.parametrize("payload", [b"[DONE]", b"[DONE] ", b"[DONE]\t", b"[DONE]  \t "])
def test_done_with_trailing_whitespace_ends_the_stream(payload: bytes) -> None:
    assert is_done(payload)
    assert decode(b'data: {"a":1}\n\ndata: ' + payload + b"\n\n") == [b'{"a":1}', payload]


@pytest.mark.parametrize("payload", [b"[DONE]x", b" [DONE]x", b'"[DONE]"', b"[DONE"])
def test_near_misses_are_not_done(payload: bytes) -> None:
    assert not is_done(payload)
