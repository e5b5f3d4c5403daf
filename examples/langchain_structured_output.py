"""Structured output three ways, on an API that has no ``json_schema`` response format.

    python examples/langchain_structured_output.py

- ``function_calling`` (the default): the schema becomes a tool the model is asked to call.
- ``json_mode`` and ``json_schema``: ``response_format={"type": "json_object"}`` with the schema stated
  in the system prompt, and the reply validated against it. AnyFast has no ``json_schema`` response
  format and cannot enforce a schema server-side, so ChatAnyFast does it client-side.

All three return a validated pydantic object; ``include_raw=True`` also returns the raw message.
Runs on the built-in emulator unless ANYFAST_API_KEY is set.
"""

from __future__ import annotations

from _backend import anyfast_backend
from pydantic import BaseModel, Field

from langchain_anyfast import ChatAnyFast


class BikeSpec(BaseModel):
    """The key figures of an e-bike."""

    model: str = Field(description="The bike's model name")
    battery_wh: int = Field(description="Battery capacity in watt-hours")
    torque_nm: int = Field(description="Motor torque in newton-metres")
    weight_kg: float = Field(description="Weight in kilograms")


TEXT = "Spec sheet of the Kestrel K2 all-rounder. Battery: 630 Wh. Motor: mid-drive, torque 85 Nm. Weight: 25.5 kg."


def main() -> None:
    chat = ChatAnyFast(model="glm-5.2")
    prompt = f"Extract the bike's key figures from this text: {TEXT}"

    spec = chat.with_structured_output(BikeSpec).invoke(prompt)  # method="function_calling"
    print(f"function_calling  {spec!r}")

    for method in ("json_mode", "json_schema"):
        spec = chat.with_structured_output(BikeSpec, method=method).invoke(prompt)
        print(f"{method:<17} {spec!r}")

    # include_raw=True: the parsed object, the raw AIMessage (reasoning, usage) and any parsing error.
    result = chat.with_structured_output(BikeSpec, include_raw=True).invoke(prompt)
    print("parsed:       ", result["parsed"])
    print("parsing_error:", result["parsing_error"])
    print("usage:        ", result["raw"].usage_metadata)


if __name__ == "__main__":
    with anyfast_backend():
        main()
