"""Structured output with LlamaIndex: a validated pydantic object from ``structured_predict``.

    python examples/llamaindex_structured_predict.py

By default the schema becomes a tool the model is asked to call (function calling). With
``pydantic_program_mode="llm"`` AnyFast uses JSON mode instead: the schema goes in the prompt, the
server is asked for a JSON object (``response_format={"type": "json_object"}``), and the answer is
validated against the class. The same object also comes from the async twin and from
``as_structured_llm`` (a drop-in LLM whose answers are objects). Runs on the built-in emulator unless
ANYFAST_API_KEY is set.
"""

from __future__ import annotations

import asyncio

from _backend import anyfast_backend
from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate
from llama_index.core.types import PydanticProgramMode
from pydantic import BaseModel, Field

from llama_index_anyfast import AnyFast


class Warranty(BaseModel):
    """Warranty terms, in years."""

    frame_years: int = Field(description="Years of warranty on the frame and fork")
    motor_years: int = Field(description="Years of warranty on the motor and battery")
    other_years: int = Field(description="Years of warranty on other components")


TEXT = "Frame and fork: 10 years. Motor and battery: 3 years. Other components: 2 years."
PROMPT = PromptTemplate("Extract the warranty terms from this text: {text}")


def main() -> None:
    llm = AnyFast(model="glm-5.2")

    warranty = llm.structured_predict(Warranty, PROMPT, text=TEXT)
    print("structured_predict: ", repr(warranty))

    warranty = asyncio.run(llm.astructured_predict(Warranty, PROMPT, text=TEXT))
    print("astructured_predict:", repr(warranty))

    json_llm = AnyFast(model="glm-5.2", pydantic_program_mode=PydanticProgramMode.LLM)
    warranty = json_llm.structured_predict(Warranty, PROMPT, text=TEXT)
    print("JSON mode:          ", repr(warranty))

    structured = llm.as_structured_llm(Warranty)
    response = structured.chat([ChatMessage(role="user", content=PROMPT.format(text=TEXT))])
    print("as_structured_llm:  ", repr(response.raw))


if __name__ == "__main__":
    with anyfast_backend():
        main()
