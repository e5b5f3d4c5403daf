"""The stream accumulator: one pure fold of chunks into the final message.

Each chunk (a parsed JSON dict) goes through :meth:`StreamAccumulator.add`, which returns what is new
in it as a :class:`StreamDelta` (or ``None`` when the chunk carries nothing to show, e.g. a role-only
or usage-only chunk) and folds it into the running state. :meth:`StreamAccumulator.result` gives the
whole answer as the same :class:`~anyfast_core.types.ChatCompletion` a non-streaming call returns, so
adapters build their final message one way for both.

Tolerated, as seen on the wire: ``role`` on every delta, stray ``"content": ""``, reasoning as
``reasoning_content``, as ``reasoning`` or as a leading ``<think>…</think>`` block in ``content`` (split
off by :class:`~anyfast_core.reasoning.ThinkSplitter`, so the answer never holds it), tool calls whole
in one chunk or in fragments (the first with id and name, later ones with only ``index`` and a piece of
``arguments``; a fresh ``id`` on every fragment of one call too: a new call starts with a new ``index``
or a new ``name``, never with a new ``id`` alone), a gateway that reuses an index for a second call
(with its own name), ``finish_reason`` repeated on several chunks, and usage in the finish chunk or in
a separate ``choices: []`` chunk.
No pydantic validation per chunk: plain dict reads keep the hot path lean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from anyfast_core.reasoning import ThinkSplitter, reasoning_of
from anyfast_core.types import (
    ChatCompletion,
    Choice,
    FunctionCall,
    ResponseMessage,
    ToolCall,
    Usage,
)


@dataclass(slots=True)
class ToolCallFragment:
    """A piece of one tool call. ``index`` is the call's position in the final message; ``id`` and
    ``name`` come with the piece that first carried them only (never again, whatever the server
    repeated); ``arguments`` pieces concatenate to the JSON string."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(slots=True)
class StreamDelta:
    """What one chunk adds: answer text, reasoning text, tool-call fragments."""

    content: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCallFragment] = field(default_factory=list)


@dataclass(slots=True)
class _ToolCallState:
    id: str = ""
    name: str = ""
    type: str = "function"
    arguments: list[str] = field(default_factory=list)


class _Text:
    """Growing text with amortised O(1) appends and a cached join for cumulative reads."""

    __slots__ = ("_joined", "_parts")

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._joined = ""

    def append(self, piece: str) -> None:
        self._parts.append(piece)

    def __str__(self) -> str:
        if self._parts:
            # Concatenate in a local with the attribute's reference dropped: when the caller has
            # let go of the previous string, CPython grows it in place instead of copying it, so
            # reading the cumulative text after every chunk stays linear over a long stream.
            joined, self._joined = self._joined, ""
            joined += "".join(self._parts)
            self._parts = []
            self._joined = joined
        return self._joined


class StreamAccumulator:
    """Folds chunks into one answer; see the module docstring.

    >>> acc = StreamAccumulator()
    >>> acc.add({"choices": [{"delta": {"reasoning_content": "Hm."}}]})
    StreamDelta(content='', reasoning='Hm.', tool_calls=[])
    >>> _ = acc.add({"choices": [{"delta": {"content": "Hi"}, "finish_reason": "stop"}]})
    >>> acc.result().message.content, acc.result().finish_reason
    ('Hi', 'stop')
    """

    def __init__(self) -> None:
        self._content = _Text()
        self._reasoning = _Text()
        self._tool_calls: list[_ToolCallState] = []
        self._slot_by_index: dict[int, int] = {}
        self._think: ThinkSplitter | None = ThinkSplitter()
        """Splits a leading <think> block off the content; dropped once the answer has begun (the hot path)."""
        self.id = ""
        self.model: str | None = None
        self.created: int | None = None
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.chunks = 0

    @property
    def content(self) -> str:
        """The answer text so far."""
        return str(self._content)

    @property
    def reasoning(self) -> str:
        """The reasoning text so far."""
        return str(self._reasoning)

    def add(self, chunk: dict[str, Any]) -> StreamDelta | None:
        """Fold one parsed chunk in; return what it adds, or ``None`` if it adds no text or call."""
        self.chunks += 1
        if not self.id:
            self.id = chunk.get("id") or ""
            self.model = chunk.get("model")
            self.created = chunk.get("created")
        usage = chunk.get("usage")
        if usage:
            self.usage = Usage.model_validate(usage)
        choices = chunk.get("choices")
        if not choices:
            return None
        choice = choices[0]
        finish_reason = choice.get("finish_reason")
        if finish_reason:
            self.finish_reason = finish_reason
        delta = choice.get("delta")
        if not delta:
            return None
        reasoning = delta.get("reasoning_content") or delta.get("reasoning") or ""
        if reasoning.__class__ is not str:  # e.g. a settings object under "reasoning": not text
            reasoning = reasoning_of(delta)
        content = delta.get("content") or ""
        if content and self._think is not None:
            inlined, content = self._think.feed(content)
            reasoning += inlined
            if self._think.settled:
                self._think = None
        raw_calls = delta.get("tool_calls")
        if content:
            self._content.append(content)
        if reasoning:
            self._reasoning.append(reasoning)
        fragments = [self._fold_tool_call(raw, i) for i, raw in enumerate(raw_calls)] if raw_calls else []
        if not (content or reasoning or fragments):
            return None
        return StreamDelta(content, reasoning, fragments)

    def _fold_tool_call(self, raw: dict[str, Any], position: int) -> ToolCallFragment:
        index = raw.get("index")
        if not isinstance(index, int):
            index = position
        call_id = raw.get("id") or None
        function = raw.get("function") or {}
        name = function.get("name") or None
        arguments = function.get("arguments") or ""
        if not isinstance(arguments, str):  # an object instead of a JSON string
            arguments = FunctionCall(arguments=arguments).arguments
        slot = self._slot_by_index.get(index)
        if slot is None or (name and self._starts_another_call(self._tool_calls[slot], name, call_id)):
            slot = self._slot_by_index[index] = len(self._tool_calls)
            self._tool_calls.append(_ToolCallState())
        state = self._tool_calls[slot]
        # The first id and name stand, and only they are reported as new: some servers send a fresh id
        # (or the name again) on every fragment, which a framework merging fragments would concatenate.
        new_id = call_id if call_id and not state.id else None
        new_name = name if name and not state.name else None
        if new_id:
            state.id = new_id
        if new_name:
            state.name = new_name
        if raw.get("type"):
            state.type = raw["type"]
        if arguments:
            state.arguments.append(arguments)
        return ToolCallFragment(slot, new_id, new_name, arguments)

    @staticmethod
    def _starts_another_call(state: _ToolCallState, name: str, call_id: str | None) -> bool:
        """Whether a fragment naming ``name`` at an index already in use opens a second call there (a
        gateway reusing an index): the slot has a name already, and it is another name, or the same
        one under another id (two calls of one tool). A fragment without a name always continues."""
        if not state.name:
            return False
        return name != state.name or bool(call_id and state.id and call_id != state.id)

    def finish(self) -> StreamDelta | None:
        """Settle what the content still holds back (blank text or a possible ``<think>`` tag) once the
        stream has ended, and return it as a last delta (``None`` if nothing was held)."""
        if self._think is None:
            return None
        reasoning, content = self._think.flush()
        self._think = None
        if content:
            self._content.append(content)
        if reasoning:
            self._reasoning.append(reasoning)
        return StreamDelta(content, reasoning) if content or reasoning else None

    def tool_calls(self) -> list[ToolCall]:
        """The tool calls so far, arguments joined (possibly still partial JSON mid-stream)."""
        return [
            ToolCall.model_construct(
                id=state.id,
                type=state.type,
                index=slot,
                function=FunctionCall.model_construct(name=state.name, arguments="".join(state.arguments)),
            )
            for slot, state in enumerate(self._tool_calls)
        ]

    def result(self) -> ChatCompletion:
        """The whole answer, shaped like a non-streaming response (content held back is settled first:
        see :meth:`finish`)."""
        self.finish()
        message = ResponseMessage.model_construct(
            role="assistant",
            content=self.content,
            reasoning_content=self.reasoning or None,
            tool_calls=self.tool_calls() or None,
        )
        choice = Choice.model_construct(index=0, message=message, finish_reason=self.finish_reason)
        return ChatCompletion.model_construct(
            id=self.id,
            object="chat.completion",
            created=self.created,
            model=self.model,
            choices=[choice],
            usage=self.usage,
            request_id=None,
        )
