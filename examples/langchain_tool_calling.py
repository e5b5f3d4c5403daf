"""Tool calling by hand: bind two tools, run the calls the model asks for, send the results back.

    python examples/langchain_tool_calling.py

This is the loop an agent runs for you (see langgraph_react_memory.py). Each assistant turn goes
back into the history with its tool calls and its reasoning, which GLM's interleaved thinking
expects on the next request. Runs on the built-in emulator unless ANYFAST_API_KEY is set.
"""

from __future__ import annotations

from _backend import anyfast_backend
from _tools import calculator, price_lookup
from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from langchain_anyfast import ChatAnyFast

TOOLS = {t.name: t for t in (tool(price_lookup), tool(calculator))}


def main() -> None:
    chat = ChatAnyFast(model="glm-5.2").bind_tools(list(TOOLS.values()))
    messages: list[BaseMessage] = [
        HumanMessage(
            'The shop quoted "3 * 2890 * 1.21" EUR for three Kestrel K2 bikes with 21% VAT. '
            "Look up the K2 price and use the calculator to check the total."
        )
    ]

    for _ in range(5):  # a bound on the loop: never let a model call tools forever
        reply = chat.invoke(messages)
        messages.append(reply)  # keeps tool_calls and reasoning_content for the next request
        if not reply.tool_calls:
            break
        for call in reply.tool_calls:
            result = TOOLS[call["name"]].invoke(call["args"])
            print(f"tool call: {call['name']}({call['args']}) -> {result}")
            messages.append(ToolMessage(result, tool_call_id=call["id"]))

    print("answer:", messages[-1].text)
    print("requests:", sum(1 for m in messages if m.type == "ai"))


if __name__ == "__main__":
    with anyfast_backend():
        main()
