"""The graph ``langgraph dev`` serves in test_langgraph_server.py: a LangChain agent on ChatAnyFast.

The model talks to the emulator the test started (``ANYFAST_BASE_URL`` / ``ANYFAST_API_KEY`` come from
the test); the header makes the emulator refuse undocumented fields and a tool-calling turn sent back
without its reasoning.
"""

from __future__ import annotations

import testkit
from langchain.agents import create_agent
from langchain_core.tools import tool

from langchain_anyfast import ChatAnyFast

model = ChatAnyFast(max_retries=0, default_headers={"X-AnyFast-Fault": "strict, require_reasoning"})
agent = create_agent(model, [tool(testkit.add), tool(testkit.multiply)])
