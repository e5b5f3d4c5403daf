"""A tokenizer for LlamaIndex that counts like GLM, with nothing to install or download.

LlamaIndex takes a tokenizer as ``text -> list`` and only ever counts the list: token counting
(``TokenCountingHandler``), prompt packing (``Settings.tokenizer``, read by ``PromptHelper``) and memory
limits (``ChatMemoryBuffer(tokenizer_fn=...)``). Its default is tiktoken's GPT encoding, which is not
GLM's. :func:`glm_tokenizer` returns as many entries as the core's estimate of GLM's tokens.
"""

from __future__ import annotations

from anyfast_core.tokens import estimate_text_tokens


def glm_tokenizer(text: str) -> list[int]:
    """As many entries as GLM would take tokens for ``text`` (the core's estimate).

    The entries are placeholders, not GLM token ids: LlamaIndex only counts them.

    >>> len(glm_tokenizer("The quick brown fox jumps over the lazy dog."))
    10
    """
    return [0] * estimate_text_tokens(text)
