"""What ChatAnyFast supports, told once to both langchain-tests standard suites (unit and integration)."""

from __future__ import annotations

from langchain_anyfast import ChatAnyFast


class AnyFastCapabilities:
    """Capability flags for ``ChatModelUnitTests`` and ``ChatModelIntegrationTests``; list it first."""

    @property
    def chat_model_class(self) -> type[ChatAnyFast]:
        return ChatAnyFast

    @property
    def has_tool_calling(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True

    @property
    def supports_model_override(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return "glm-5.2-air"

    @property
    def supported_usage_metadata_details(self) -> dict[str, list[str]]:
        return {"invoke": ["reasoning_output", "cache_read_input"], "stream": ["reasoning_output", "cache_read_input"]}
