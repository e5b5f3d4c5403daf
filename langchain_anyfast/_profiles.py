"""Model profiles (``ChatAnyFast(...).profile``): what LangChain may assume about each model."""

from __future__ import annotations

from typing import Any

from anyfast_core.model_facts import CONTEXT_WINDOW, MAX_OUTPUT_TOKENS

_GLM_5_2: dict[str, Any] = {
    "name": "GLM-5.2",
    "max_input_tokens": CONTEXT_WINDOW,  # the guide's 1M; LangChain plans with it (e.g. summarization triggers)
    "max_output_tokens": MAX_OUTPUT_TOKENS,
    "text_inputs": True,
    "image_inputs": False,
    "image_url_inputs": False,
    "pdf_inputs": False,
    "audio_inputs": False,
    "video_inputs": False,
    "text_outputs": True,
    "image_outputs": False,
    "audio_outputs": False,
    "video_outputs": False,
    "reasoning_output": True,
    "reasoning_effort_levels": ["none", "minimal", "low", "medium", "high", "xhigh", "max"],  # lowest first
    "reasoning_effort_default": "max",
    "tool_calling": True,
    "tool_choice": True,
    "tool_call_streaming": True,
    # No native structured output: the API's response formats are text and json_object, no json_schema.
    # LangChain's agents therefore pick their tool strategy (a forced call to a tool shaped like the
    # schema); with_structured_output still offers json_schema, with the schema in the prompt.
    "structured_output": False,
    "temperature": True,
    "attachment": False,
}

MODEL_PROFILES: dict[str, dict[str, Any]] = {"glm-5.2": _GLM_5_2}


def model_profile(model: str) -> dict[str, Any] | None:
    """A copy of the profile of ``model``, or ``None`` for a model we know nothing about."""
    profile = MODEL_PROFILES.get(model)
    return dict(profile) if profile is not None else None
