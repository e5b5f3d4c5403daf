"""A request's messages as the scripted model reads them: the user's turn, the system text, and the
tool results waiting for an answer."""

from __future__ import annotations

from typing import Any


def text_of(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list (Anthropic-style
    ``tool_result`` blocks included; images and files carry no text)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict):
                if isinstance(part.get("text"), str):
                    parts.append(part["text"])
                elif part.get("type") == "tool_result":
                    parts.append(text_of(part.get("content")))
        return "\n".join(p for p in parts if p)
    return "" if content is None else str(content)


class Conversation:
    """A request's messages, read the way the scripted model needs them."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = messages
        users = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
        self.turn = users[-1] if users else ""
        self.system = "\n".join(text_of(m.get("content")) for m in messages if m.get("role") == "system")
        self.user_history = users
        self.pending_results: list[tuple[str, str]] = []
        if messages and messages[-1].get("role") == "tool":
            names = {}
            for message in messages:
                for call in message.get("tool_calls") or ():
                    if isinstance(call, dict):
                        names[call.get("id")] = (call.get("function") or {}).get("name") or "tool"
            for message in reversed(messages):
                if message.get("role") != "tool":
                    break
                name = names.get(message.get("tool_call_id")) or message.get("name") or "tool"
                self.pending_results.insert(0, (str(name), text_of(message.get("content"))))

    @property
    def all_text(self) -> str:
        return "\n".join(text_of(m.get("content")) for m in self.messages if m.get("role") in ("system", "user"))


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
