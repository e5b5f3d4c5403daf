"""Server-sent events decoding: raw bytes in, ``data`` payloads out.

Written here rather than taken from ``httpx-sse`` because the hot path wants less than it offers: it
decodes text and builds an event object per event, while chat streams only need each event's data,
which ``json`` parses straight from bytes. Splitting lines on bytes is exact for UTF-8 (no multi-byte
sequence contains CR or LF), so nothing is decoded twice. The benchmark compares the two.

Per the SSE spec: lines end in CRLF, LF or CR; lines starting with ``:`` are comments (keep-alives);
``data:`` may be followed by one optional space; several ``data`` lines in one event are joined with
LF; a blank line dispatches the event (unless its data is empty); a leading BOM is dropped; fields
other than ``data`` (``event``, ``id``, ``retry``) do not change the payload and are ignored.
"""

from __future__ import annotations

DONE = b"[DONE]"
_BOM = b"\xef\xbb\xbf"


def is_done(payload: bytes) -> bool:
    """Whether an event's data is the end-of-stream marker, trailing whitespace tolerated (gateways
    send ``data: [DONE] `` and ``[DONE]\t`` too).

    >>> is_done(b"[DONE]"), is_done(b"[DONE] \t"), is_done(b'{"done": true}')
    (True, True, False)
    """
    return payload.startswith(DONE) and not payload[len(DONE) :].strip()


class SSEDecoder:
    """Incremental decoder: feed byte chunks, get back complete events' data payloads.

    >>> decoder = SSEDecoder()
    >>> decoder.feed(b'data: {"a": 1}\\n\\ndata: [DO')
    [b'{"a": 1}']
    >>> decoder.feed(b'NE]\\n\\n')
    [b'[DONE]']
    """

    __slots__ = ("_buffer", "_data", "_pending_cr", "_started")

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[bytes] = []
        self._pending_cr = False
        self._started = False

    def feed(self, chunk: bytes) -> list[bytes]:
        """The data payloads of the events that ``chunk`` completes, in order."""
        if not chunk:
            return []
        if not self._started:
            # The spec allows one leading BOM, which may itself arrive split.
            head = self._buffer + chunk
            if len(head) < len(_BOM) and _BOM.startswith(head):
                self._buffer = head
                return []
            self._started = True
            self._buffer = b""
            chunk = head.removeprefix(_BOM)
        elif self._pending_cr:
            # A CR ended the last chunk: if this one starts with LF, the pair was one line end.
            self._pending_cr = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        if not chunk:
            return []
        buffer = self._buffer + chunk if self._buffer else chunk
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):
                self._pending_cr = True
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buffer.split(b"\n")
        self._buffer = lines.pop()
        return self._lines(lines)

    def flush(self) -> list[bytes]:
        """What is left when the body ends. Per the spec an event without its closing blank line is
        discarded (it may be cut mid-JSON); only a final ``[DONE]`` is honoured, as gateways omit
        the blank line after it."""
        lines = [self._buffer] if self._buffer else []
        self._buffer = b""
        self._pending_cr = False
        events = self._lines(lines)
        if len(self._data) == 1 and is_done(self._data[0]):
            events.append(DONE)
        self._data = []
        return events

    def _lines(self, lines: list[bytes]) -> list[bytes]:
        events: list[bytes] = []
        data = self._data
        for line in lines:
            if not line:
                if data:
                    payload = data[0] if len(data) == 1 else b"\n".join(data)
                    if payload:  # an event whose data is empty is not dispatched
                        events.append(payload)
                    data = self._data = []
            elif line.startswith(b"data:"):
                value = line[5:]
                data.append(value[1:] if value.startswith(b" ") else value)
            elif line == b"data":  # a field name alone has the empty value
                data.append(b"")
            # Comments (":" keep-alives) and other fields carry nothing for a chat stream.
        return events
