"""What AnyFast documents about GLM-5.2, in one place for the adapters to read.

Source: AnyFast's GLM-5.2 guide ("usable 1M-token context", up to 128K output tokens, text in and
text out) and its chat-completions reference (``max_tokens`` 1..131072, default 65536). The adapters
read these for the numbers frameworks plan with: LlamaIndex's ``context_window`` and ``num_output``,
LangChain's profile ``max_input_tokens`` / ``max_output_tokens``.

>>> CONTEXT_WINDOW, MAX_OUTPUT_TOKENS, DEFAULT_MAX_TOKENS
(1000000, 131072, 65536)
"""

from __future__ import annotations

from typing import Final

CONTEXT_WINDOW: Final = 1_000_000
"""Tokens the model takes in one call: prompt and output together."""

MAX_OUTPUT_TOKENS: Final = 131_072
"""The largest ``max_tokens`` the API accepts (128K); reasoning tokens count against it."""

DEFAULT_MAX_TOKENS: Final = 65_536
"""What the server generates at most when ``max_tokens`` is not sent."""
