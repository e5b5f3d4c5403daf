"""A LangGraph ReAct agent with memory: two turns on one thread, the second building on the first.

    python examples/langgraph_react_memory.py

The checkpointer stores the conversation per ``thread_id``, so the second turn can refer to the
first: the agent still knows the user's name and the bike they asked about. Every assistant turn is
stored with its reasoning and sent back with it, which GLM's interleaved thinking needs across tool
calls. Runs on the built-in emulator unless ANYFAST_API_KEY is set.
"""

from __future__ import annotations

from _backend import anyfast_backend
from _tools import calculator, price_lookup
from langchain.agents import create_agent
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from langchain_anyfast import ChatAnyFast


def main() -> None:
    chat = ChatAnyFast(model="glm-5.2")
    agent = create_agent(chat, [tool(price_lookup), tool(calculator)], checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "customer-42"}}

    for question in (
        "Hi, my name is Ada. What is the price of the Kestrel Cargo?",
        "What is my name, and which bike did I ask about?",
    ):
        print(f"\nuser: {question}")
        for update in agent.stream({"messages": [("user", question)]}, config, stream_mode="updates"):
            for node, state in update.items():
                for message in state.get("messages", []):
                    for call in getattr(message, "tool_calls", []):
                        print(f"  {node}: calls {call['name']}({call['args']})")
                    if message.type == "tool":
                        print(f"  {node}: {message.name} -> {message.content}")
        final = agent.get_state(config).values["messages"][-1]
        print(f"agent: {final.text}")

    history = agent.get_state(config).values["messages"]
    print(f"\nthread 'customer-42' holds {len(history)} messages:", " ".join(m.type for m in history))


if __name__ == "__main__":
    with anyfast_backend():
        main()
