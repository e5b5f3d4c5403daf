"""GLM-5.2 on AnyFast in LangChain, LangGraph and LlamaIndex, in one run.

    pip install -e ".[demo]" && python examples/demo.py

With ``ANYFAST_API_KEY`` set the demo talks to the live API; without it (or with ``--offline``) it
starts the built-in emulator, a local stand-in that speaks the same wire protocol with scripted
answers, streamed at a live model's token pace (``--pace``). A banner says which. In order:

1. a LangChain chain (prompt | ChatAnyFast | StrOutputParser) streaming its answer, reasoning shown live;
2. a LangGraph ReAct agent with a calculator and a price list, printing each tool call as it happens;
3. a LlamaIndex RAG pipeline (BM25, no embeddings, no download) over the bundled Kestrel docs, with sources;
4. structured output into a pydantic model, in LangChain and in LlamaIndex;

then a summary of requests, tokens and time, as the server reported them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

sys.path.insert(0, str(Path(__file__).parent))  # the examples' helper modules sit beside this file

from _backend import Backend, anyfast_backend
from _meter import UsageMeter
from _terminal import Terminal
from _tools import DATA, calculator, price_lookup

from anyfast_core import (
    API_KEY_ENV,
    DEFAULT_MODEL,
    AnyFastError,
    APIConnectionError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
)
from anyfast_core.types import REASONING_EFFORTS


class BikeSpec(BaseModel):
    """The key figures of an e-bike."""

    model: str = Field(description="The bike's model name")
    battery_wh: int = Field(description="Battery capacity in watt-hours")
    torque_nm: int = Field(description="Motor torque in newton-metres")
    weight_kg: float = Field(description="Weight in kilograms")


DEFAULT_PACE = 0.02
"""About 50 tokens a second: what a live model's reasoning looks like when it streams."""

SPEC_TEXT = (
    "Spec sheet of the Kestrel K2 all-rounder. Battery: 630 Wh. Motor: mid-drive, torque 85 Nm. Weight: 25.5 kg."
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python examples/demo.py",
        description=(
            "GLM-5.2 on AnyFast in LangChain, LangGraph and LlamaIndex. Uses the live API when "
            f"{API_KEY_ENV} is set, otherwise the built-in emulator (no key, no network)."
        ),
    )
    parser.add_argument("--offline", action="store_true", help="use the built-in emulator even if a key is set")
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"model id (default: {DEFAULT_MODEL})")
    parser.add_argument(
        "--pace",
        type=float,
        default=float(os.environ.get("ANYFAST_DEMO_PACE", DEFAULT_PACE)),
        metavar="SECONDS",
        help=f"on the emulator, seconds between streamed tokens (default: {DEFAULT_PACE}, a live model's pace; "
        "0: as fast as possible)",
    )
    parser.add_argument(
        "--effort",
        choices=REASONING_EFFORTS,
        default="high",
        help="reasoning effort (default: high; 'none' answers without thinking)",
    )
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- 1. LangChain


def chain_demo(term: Terminal, chat: Any) -> None:
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    class ShowReasoning(BaseCallbackHandler):
        """Prints reasoning as it streams: callbacks see every chunk of the model, the parser only the answer."""

        def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
            message = getattr(kwargs.get("chunk"), "message", None)
            if message is not None:
                term.stream("reasoning", message.additional_kwargs.get("reasoning_content", ""))

    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You answer questions about Kestrel e-bikes in two sentences, using only the context."),
            ("human", "Context:\n{context}\n\nQuestion: {question}"),
        ]
    )
    chain = prompt | chat | StrOutputParser()
    context = (DATA / "kestrel-docs" / "motors.md").read_text(encoding="utf-8")
    question = "Why does a mid-drive motor climb hills better than a hub motor?"
    term.note(f"chain: prompt | ChatAnyFast | StrOutputParser, streamed\ncontext: motors.md\nquestion: {question}")

    for text in chain.stream({"context": context, "question": question}, config={"callbacks": [ShowReasoning()]}):
        term.stream("answer", text)
    term.end_stream()


# --------------------------------------------------------------------------- 2. LangGraph


def agent_demo(term: Terminal, chat: Any) -> None:
    from langchain.agents import create_agent
    from langchain_core.messages import AIMessage, ToolMessage
    from langchain_core.tools import tool

    agent = create_agent(chat, [tool(price_lookup), tool(calculator)])

    question = (
        'The shop quoted "3 * 2890 * 1.21" EUR for three Kestrel K2 bikes with 21% VAT. '
        "Look up the K2 price and use the calculator to check the total."
    )
    term.note(f"agent: LangChain create_agent with tools price_lookup and calculator\nquestion: {question}")
    # Parallel tool calls finish in any order; results print in the order the model made the calls.
    waiting: list[str] = []
    results: dict[str, ToolMessage] = {}
    for update in agent.stream({"messages": [("user", question)]}, stream_mode="updates"):
        for node in update.values():
            for message in node.get("messages", []):
                if isinstance(message, ToolMessage):
                    results[message.tool_call_id] = message
                elif isinstance(message, AIMessage):
                    reasoning = message.additional_kwargs.get("reasoning_content", "")
                    if reasoning:
                        term.step("thinking", _one_line(reasoning), style="yellow")
                    for call in message.tool_calls:
                        term.step("call", f"{call['name']}({_args(call['args'])})")
                        waiting.append(str(call["id"]))
                    if not message.tool_calls:
                        term.stream("answer", str(message.content))
        while waiting and waiting[0] in results:
            result = results.pop(waiting.pop(0))
            term.step("result", f"{result.name} -> {result.content}", style="green")
    term.end_stream()


# --------------------------------------------------------------------------- 3. LlamaIndex RAG


def rag_demo(term: Terminal, llm: Any) -> None:
    from llama_index.core import SimpleDirectoryReader
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.query_engine import RetrieverQueryEngine
    from llama_index.retrievers.bm25 import BM25Retriever

    documents = SimpleDirectoryReader(str(DATA / "kestrel-docs")).load_data()
    nodes = SentenceSplitter(chunk_size=256, chunk_overlap=20).get_nodes_from_documents(documents)
    retriever = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=2)
    engine = RetrieverQueryEngine.from_args(retriever, llm=llm)

    question = "How long does the charger take to fill an empty K2 battery to 80%?"
    term.note(f"RAG: {len(documents)} docs in {len(nodes)} chunks, BM25 top 2\nquestion: {question}")
    response = engine.query(question)
    for source in response.source_nodes:
        term.step("source", f"{source.node.metadata.get('file_name')} (BM25 score {source.score:.2f})", style="blue")
    term.stream("answer", str(response).strip())
    term.end_stream()


# --------------------------------------------------------------------------- 4. structured output


def structured_demo(term: Terminal, chat: Any, llm: Any) -> None:
    from llama_index.core.prompts import PromptTemplate

    term.note(f"text: {SPEC_TEXT}")
    spec = chat.with_structured_output(BikeSpec).invoke(f"Extract the bike's key figures from this text: {SPEC_TEXT}")
    term.step("LangChain", repr(spec), style="cyan")

    spec = llm.structured_predict(
        BikeSpec, PromptTemplate("Extract the bike's key figures from this text: {text}"), text=SPEC_TEXT
    )
    term.step("LlamaIndex", repr(spec), style="cyan")


# --------------------------------------------------------------------------- the run


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    term = Terminal()
    started = time.perf_counter()
    meter = UsageMeter()
    try:
        with anyfast_backend(offline=args.offline, pace=args.pace) as backend, meter.client() as http:
            _banner(term, backend, args)
            from langchain_anyfast import ChatAnyFast
            from llama_index_anyfast import AnyFast

            # Both adapters send through the same metered httpx client, so one meter counts all.
            chat = ChatAnyFast(model=args.model, reasoning_effort=args.effort, http_client=http)
            llm = AnyFast(model=args.model, reasoning_effort=args.effort, http_client=http)
            term.section(1, "LangChain: a streaming chain, reasoning shown live")
            chain_demo(term, chat)
            term.section(2, "LangGraph: a ReAct agent with two tools")
            agent_demo(term, chat)
            term.section(3, "LlamaIndex: RAG over the bundled Kestrel docs (BM25)")
            rag_demo(term, llm)
            term.section(4, "Structured output into a pydantic model")
            structured_demo(term, chat, llm)
    except AuthenticationError as exc:
        term.error(f"AnyFast rejected the API key: {exc.message}", _offline_hint())
        return 2
    except APIConnectionError as exc:
        term.error(exc.message, _offline_hint())  # says what failed: connection refused, DNS, timeout
        return 3
    except (PermissionDeniedError, NotFoundError) as exc:
        term.error(f"{exc.message} (is --model {args.model!r} available to your key?)", _offline_hint())
        return 4
    except AnyFastError as exc:
        term.error(f"{type(exc).__name__}: {exc.message}", _offline_hint())
        return 1
    except KeyboardInterrupt:
        term.error("Interrupted.")
        return 130

    _summary(term, meter, time.perf_counter() - started)
    return 0


def _banner(term: Terminal, backend: Backend, args: argparse.Namespace) -> None:
    settings = f"model {args.model}, reasoning effort {args.effort}"
    if backend.emulated:
        title, warn = "OFFLINE: built-in emulator", True
        lines = [
            backend.describe(),
            "Answers are scripted by the emulator, not written by GLM.",
            f"Set {API_KEY_ENV} to run against the live API.",
        ]
    elif backend.live:
        title, warn = "LIVE: GLM on the AnyFast API", False
        lines = [backend.describe(), settings]
    else:
        title, warn = "LOCAL: a server on this machine", True
        lines = [backend.describe(), settings]
    term.banner(title, lines, warn=warn)


def _summary(term: Terminal, meter: UsageMeter, seconds: float) -> None:
    totals = meter.totals
    reasoning = "not reported" if totals.reasoning_tokens is None else f"{totals.reasoning_tokens:,}"
    term.table(
        "Summary (as reported by the server)",
        [
            ("requests made", f"{totals.requests:,}"),
            ("tokens in", f"{totals.prompt_tokens:,}"),
            ("  of which cached", f"{totals.cached_tokens:,}"),
            ("tokens out", f"{totals.completion_tokens:,}"),
            ("  of which reasoning", reasoning),
            ("wall time", f"{seconds:.1f} s"),
        ],
    )


def _offline_hint() -> str:
    return "Run `python examples/demo.py --offline` to see the demo on the built-in emulator."


def _one_line(text: str, limit: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _args(args: dict[str, Any]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in args.items())


if __name__ == "__main__":
    sys.exit(main())
