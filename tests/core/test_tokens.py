"""The GLM token estimate: against the prompt tokens GLM reported for real requests, and by character class."""

from __future__ import annotations

import pytest
from testkit import recorded_prompts

from anyfast_core.tokens import (
    estimate_message_tokens,
    estimate_messages_tokens,
    estimate_text_tokens,
    estimate_tools_tokens,
)

RECORDED = recorded_prompts()
FIRST_TURNS = [r for r in RECORDED if r[0].endswith(".1")]
HELD_OUT = [r for r in RECORDED if r[0].endswith(".2")]
"""The tool overhead is fit on the first turns; the follow-up turns (tool calls, reasoning and tool results
sent back) took no part in choosing any number."""


def test_the_recordings_hold_five_distinct_requests() -> None:
    # The two glm-4.5 first turns are the same request (one streamed); their follow-ups differ in call ids.
    assert [(name, tokens) for name, _, tokens in RECORDED] == [
        ("zai-glm-4.5_tool.1", 179),
        ("zai-glm-4.5_tool.2", 207),
        ("zai-glm-4.5_tool_streaming.2", 207),
        ("zai-glm-4.6v_multi_tool_streaming.1", 282),
        ("zai-glm-4.6v_multi_tool_streaming.2", 440),
    ]


@pytest.mark.parametrize(("name", "body", "reported"), RECORDED, ids=[r[0] for r in RECORDED])
def test_within_ten_percent_of_what_glm_reported(name: str, body: dict, reported: int) -> None:
    estimate = estimate_messages_tokens(body["messages"], body.get("tools"))
    assert abs(estimate - reported) <= 0.10 * reported, (name, estimate, reported)


@pytest.mark.parametrize(("name", "body", "reported"), HELD_OUT, ids=[r[0] for r in HELD_OUT])
def test_held_out_turns_add_what_glm_counted(name: str, body: dict, reported: int) -> None:
    # What the follow-up turn adds over its first turn (assistant tool calls, reasoning, tool results),
    # estimated against what GLM counted: measured -7%, -7% and +4%.
    _, first_body, first_reported = next(r for r in FIRST_TURNS if r[1]["messages"] == body["messages"][:2])
    added = estimate_messages_tokens(body["messages"], body.get("tools")) - estimate_messages_tokens(
        first_body["messages"], first_body.get("tools")
    )
    assert abs(added - (reported - first_reported)) <= 0.10 * (reported - first_reported), (name, added)


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("", 0, 0),
        ("Hello", 1, 1),
        ("The quick brown fox jumps over the lazy dog.", 9, 11),
        ("internationalization", 2, 5),  # a long word is several tokens
        ("1234567890", 3, 4),  # digits go three at a time
        ("a\n\n\nb", 3, 3),  # a run of newlines is one token
        ("x" + " " * 16 + "y", 3, 3),  # and so is a run of spaces
        ("深度学习模型", 3, 6),  # CJK: about 0.7 tokens a character
        ('{"a": [1, 2, 3]}', 8, 14),
    ],
)
def test_text_by_character_class(text: str, low: int, high: int) -> None:
    assert low <= estimate_text_tokens(text) <= high


def test_counts_add_up_over_sentences() -> None:
    sentence = "GLM thinks before it answers."
    long = " ".join([sentence] * 100)
    assert estimate_text_tokens(long) == pytest.approx(100 * estimate_text_tokens(sentence), rel=0.05)


def test_messages_count_role_markers_reasoning_tool_calls_and_results() -> None:
    user = {"role": "user", "content": "Hi"}
    assert estimate_message_tokens(user) == 2 + estimate_text_tokens("Hi")
    plain = {"role": "assistant", "content": "Sure."}
    thinking = {**plain, "reasoning_content": "The user wants a short answer, so I keep it short."}
    assert estimate_message_tokens(thinking) > estimate_message_tokens(plain) + 10
    call = {"id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 3}'}}
    assert estimate_message_tokens({**plain, "tool_calls": [call]}) > estimate_message_tokens(plain) + 10
    # Arguments that are not JSON are priced as text rather than failing.
    broken = {**call, "function": {"name": "add", "arguments": "{not json"}}
    assert estimate_message_tokens({**plain, "tool_calls": [broken]}) > estimate_message_tokens(plain)
    parts = {"role": "user", "content": [{"type": "text", "text": "Hi"}]}
    assert estimate_message_tokens(parts) == estimate_message_tokens(user)


def test_tools_cost_a_preamble_once_and_their_json_each() -> None:
    tool = {"type": "function", "function": {"name": "add", "description": "Add two integers.", "parameters": {}}}
    one, two = estimate_tools_tokens([tool]), estimate_tools_tokens([tool, tool])
    assert estimate_tools_tokens([]) == 0
    assert one > 90
    assert 10 < two - one < one
    messages = [{"role": "user", "content": "Hi"}]
    assert estimate_messages_tokens(messages, [tool]) == estimate_messages_tokens(messages) + one
