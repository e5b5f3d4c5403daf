"""Reasoning from every carrier; the incremental ``<think>`` splitter over every split point."""

from __future__ import annotations

import itertools

import pytest

from anyfast_core.reasoning import ThinkSplitter, reasoning_of, split_think
from anyfast_core.response import normalise_reasoning
from anyfast_core.types import ResponseMessage

CASES = [
    ("<think>Hm.</think>Hi!", ("Hm.", "Hi!")),
    ("<think>\nThe user greets me.\n</think>\n\nHello!", ("The user greets me.", "Hello!")),
    ("\n<think>a < b, and </thin is no tag</think>answer", ("a < b, and </thin is no tag", "answer")),
    ('<think>say {"x": 1}</think>{"y": 2}', ('say {"x": 1}', '{"y": 2}')),
    ("<think>cut off while thinking", ("cut off while thinking", "")),
    ("<think></think>just the answer", ("", "just the answer")),
    ("<think>thought</think>", ("thought", "")),
    ("Hello <think>not a block</think>", ("", "Hello <think>not a block</think>")),
    ("<thinking>is not the tag", ("", "<thinking>is not the tag")),
    ("<thi", ("", "<thi")),
    ("<", ("", "<")),
    ("\n\n", ("", "\n\n")),
    ("", ("", "")),
    ("  Plain answer with spaces  ", ("", "  Plain answer with spaces  ")),
    ("<think>a</think>b</think>c", ("a", "b</think>c")),
    ("<think>a\n\n  b \n</think>\n c ", ("a\n\n  b", "c ")),
]


@pytest.mark.parametrize(("content", "expected"), CASES)
def test_split_think(content: str, expected: tuple[str, str]) -> None:
    assert split_think(content) == expected


def feed_all(pieces: list[str]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    reasoning, answer = [], []
    for piece in [*pieces]:
        r, a = splitter.feed(piece)
        reasoning.append(r)
        answer.append(a)
    r, a = splitter.flush()
    return "".join(reasoning) + r, "".join(answer) + a


@pytest.mark.parametrize(("content", "expected"), CASES)
def test_every_two_and_three_way_split_gives_the_same(content: str, expected: tuple[str, str]) -> None:
    n = len(content)
    for i in range(n + 1):
        assert feed_all([content[:i], content[i:]]) == expected, i
    for i, j in itertools.combinations(range(n + 1), 2):
        assert feed_all([content[:i], content[i:j], content[j:]]) == expected, (i, j)


@pytest.mark.parametrize(("content", "expected"), CASES)
def test_one_character_at_a_time_gives_the_same(content: str, expected: tuple[str, str]) -> None:
    assert feed_all(list(content)) == expected


def test_nothing_is_shown_before_it_is_certain() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("\n<th") == ("", "")  # may still open a block
    assert splitter.feed("ink>Reasoning ") == ("Reasoning", "")  # the blank may come before the closing tag
    assert splitter.feed("goes on</thi") == (" goes on", "")
    assert splitter.feed("nk>\n\n") == ("", "")
    assert splitter.feed("Answer") == ("", "Answer")
    assert splitter.feed(" <think>") == ("", " <think>")  # after the block, content is content


def test_content_without_a_block_passes_at_once() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("Hel") == ("", "Hel")
    assert splitter.feed("lo") == ("", "lo")
    assert splitter.flush() == ("", "")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"reasoning_content": "a"}, "a"),
        ({"reasoning": "b"}, "b"),
        ({"reasoning_content": "a", "reasoning": "a"}, "a"),
        ({"reasoning_content": "", "reasoning": "b"}, "b"),
        ({"reasoning": {"effort": "high"}}, ""),  # not text: some servers put settings there
        ({}, ""),
    ],
)
def test_reasoning_of(fields: dict[str, object], expected: str) -> None:
    assert reasoning_of(fields) == expected


@pytest.mark.parametrize(
    ("message", "reasoning", "content"),
    [
        ({"content": "Hi", "reasoning_content": "R"}, "R", "Hi"),
        ({"content": "Hi", "reasoning": "R"}, "R", "Hi"),
        ({"content": "<think>R</think>\n\nHi"}, "R", "Hi"),
        ({"content": '<think>{"no": 1}</think>{"yes": 2}'}, '{"no": 1}', '{"yes": 2}'),
        ({"content": "\n\n", "reasoning_content": "R"}, "R", "\n\n"),
        ({"content": "Hi"}, None, "Hi"),
        ({"content": None}, None, None),
    ],
)
def test_whole_messages_are_normalised(message: dict[str, object], reasoning: str | None, content: str | None) -> None:
    parsed = ResponseMessage.model_validate(message)
    normalise_reasoning(parsed)
    assert (parsed.reasoning_content, parsed.content) == (reasoning, content)
