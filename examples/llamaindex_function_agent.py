"""A LlamaIndex FunctionAgent with two tools, streaming its thinking, calls and answer.

    python examples/llamaindex_function_agent.py

AnyFast puts the model's reasoning in ``AgentStream.thinking_delta`` and the answer text in
``delta``, so the two can be shown apart. Each tool-calling turn goes back to the model with its
reasoning (a ThinkingBlock), as GLM's interleaved thinking expects. Runs on the built-in emulator
unless ANYFAST_API_KEY is set.
"""

from __future__ import annotations

import asyncio

from _backend import anyfast_backend
from _tools import calculator, price_lookup
from llama_index.core.agent.workflow import AgentOutput, AgentStream, FunctionAgent, ToolCall, ToolCallResult
from llama_index.core.tools import FunctionTool

from llama_index_anyfast import AnyFast


async def main() -> None:
    agent = FunctionAgent(
        tools=[FunctionTool.from_defaults(price_lookup), FunctionTool.from_defaults(calculator)],
        llm=AnyFast(model="glm-5.2"),
        system_prompt="You answer questions about Kestrel bikes. Use the tools for prices and arithmetic.",
    )

    handler = agent.run(
        'The shop quoted "3 * 2890 * 1.21" EUR for three Kestrel K2 bikes with 21% VAT. '
        "Look up the K2 price and use the calculator to check the total."
    )
    thinking = 0
    async for event in handler.stream_events():
        if isinstance(event, AgentStream):
            thinking += len(event.thinking_delta or "")
            print(event.delta, end="", flush=True)
        elif isinstance(event, ToolCall) and not isinstance(event, ToolCallResult):
            print(f"\ntool call: {event.tool_name}({event.tool_kwargs})")
        elif isinstance(event, ToolCallResult):
            print(f"tool result: {event.tool_output.content}")
    result: AgentOutput = await handler
    print(f"\n\nanswer: {result.response.content}")
    print(f"thinking streamed: {thinking} characters")


if __name__ == "__main__":
    with anyfast_backend():
        asyncio.run(main())
