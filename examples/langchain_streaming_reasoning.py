"""Stream GLM-5.2's reasoning and answer separately, then continue the conversation.

    python examples/langchain_streaming_reasoning.py

ChatAnyFast keeps the answer in ``content`` and the model's reasoning in
``additional_kwargs["reasoning_content"]`` of every streamed chunk, so a UI can show thinking live
and apart from the answer. Added together, the chunks make one message with both, plus token usage.
Sent back in the history, that message carries its reasoning with it (GLM's preserved thinking).
Runs on the built-in emulator unless ANYFAST_API_KEY is set.
"""

from __future__ import annotations

from _backend import anyfast_backend
from langchain_core.messages import AIMessageChunk, HumanMessage

from langchain_anyfast import ChatAnyFast


def main() -> None:
    # No key or URL here: both come from ANYFAST_API_KEY / ANYFAST_BASE_URL.
    chat = ChatAnyFast(model="glm-5.2", reasoning_effort="high")
    question = HumanMessage("In two sentences: what limits the range of an e-bike battery?")

    full: AIMessageChunk | None = None
    shown = None
    for chunk in chat.stream([question]):
        reasoning = chunk.additional_kwargs.get("reasoning_content", "")
        for kind, text in (("thinking", reasoning), ("answer", chunk.text)):
            if text:
                if kind != shown:  # a label each time the stream switches between thinking and answer
                    print(f"\n[{kind}]", flush=True)
                    shown = kind
                print(text, end="", flush=True)
        full = chunk if full is None else full + chunk  # chunks add up to the whole message
    print()

    assert full is not None
    print("\nreasoning chars:", len(full.additional_kwargs.get("reasoning_content", "")))
    print("content blocks: ", [block["type"] for block in full.content_blocks])
    print("usage:          ", full.usage_metadata)

    # Continue the conversation: the first answer goes back with its reasoning attached.
    follow_up = chat.invoke([question, full, HumanMessage("And which of those can a rider change?")])
    print("\nfollow-up answer:", follow_up.text)


if __name__ == "__main__":
    with anyfast_backend():
        main()
