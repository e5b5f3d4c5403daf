"""The scripted model: what it answers, pure and deterministic (no server)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from anyfast_emulator.answer import PrefixCache, ResponseIds
from anyfast_emulator.heuristics.brain import find_schema, think
from anyfast_emulator.heuristics.schema_values import Prompt, values_for
from anyfast_emulator.tokens import count_tokens, pieces


def body(content: str | list[dict[str, Any]] = "Hello", **fields: Any) -> dict[str, Any]:
    messages = content if isinstance(content, list) else [{"role": "user", "content": content}]
    return {"model": "glm-5.2", "messages": messages, **fields}


def tool(
    name: str, properties: dict[str, Any], required: list[str] | None = None, description: str = ""
) -> dict[str, Any]:
    parameters = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


INT = {"type": "integer"}
MULTIPLY = tool("multiply", {"a": INT, "b": INT}, description="Multiply two integers.")
ADD = tool("add", {"a": INT, "b": INT}, description="Add two integers.")
WEATHER = tool("get_weather", {"location": {"type": "string"}}, description="Get the weather at a location.")
MAGIC = tool(
    "magic_function",
    {"input": {"type": "integer", "exclusiveMinimum": -1000, "exclusiveMaximum": 1000}},
    description="Apply a magic function to an input.",
)


def calls(answer: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(c.name, json.loads(c.arguments)) for c in answer.tool_calls]


def test_tokens_concatenate_back_to_the_text() -> None:
    text = "Hello, world!  Ünïcödé 你好 42.5\n\nEnd."
    assert "".join(pieces(text)) == text
    assert count_tokens(text) == len(pieces(text))


def test_greeting_with_reasoning_first_by_default() -> None:
    answer = think(body("Hello"))
    assert answer.content == "Hello! How can I help you today?"
    assert answer.reasoning.startswith("The user greets me.")
    assert answer.finish_reason == "stop"
    assert answer.completion_tokens == count_tokens(answer.reasoning) + count_tokens(answer.content)
    assert answer.reasoning_tokens == count_tokens(answer.reasoning)


@pytest.mark.parametrize(
    "fields",
    [{"thinking": {"type": "disabled"}}, {"reasoning_effort": "none"}, {"reasoning_effort": "minimal"}],
)
def test_no_reasoning_when_thinking_is_off(fields: dict[str, Any]) -> None:
    answer = think(body("Hello", **fields))
    assert answer.reasoning == ""
    assert answer.reasoning_tokens == 0
    assert answer.content


def test_answers_are_deterministic() -> None:
    request = body("Tell me a story", tools=[WEATHER])
    assert think(request, response_id="r1") == think(json.loads(json.dumps(request)), response_id="r1")


def test_response_ids_follow_the_body_and_never_repeat() -> None:
    ids = ResponseIds()
    first, again, other = ids.next(body("Hi")), ids.next(body("Hi")), ids.next(body("Bye"))
    assert len({first, again, other}) == 3
    ids.clear()
    assert ids.next(body("Hi")) == first  # a fresh server replays a recorded session's ids


def test_stop_cuts_the_content_before_the_stop_string() -> None:
    answer = think(body("hi", stop=["you"]))
    assert answer.content == "Hello! How can I help "
    assert answer.finish_reason == "stop"
    assert think(body("hi", stop="How")).content == "Hello! "


def test_max_tokens_counts_reasoning_first() -> None:
    full = think(body("Write me 2 haikus."))
    budget = full.reasoning_tokens + 5
    cut = think(body("Write me 2 haikus.", max_tokens=budget))
    assert cut.finish_reason == "length"
    assert cut.reasoning == full.reasoning
    assert cut.content == "".join(pieces(full.content)[:5])
    assert cut.completion_tokens == budget
    starved = think(body("Write me 2 haikus.", max_tokens=3))
    assert (starved.finish_reason, starved.content, starved.completion_tokens) == ("length", "", 3)


def test_arithmetic_and_memory_and_echo() -> None:
    assert think(body("What is 3 * 12?")).content == "3 * 12 = 36."
    history = [
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Hi Ada!"},
        {"role": "user", "content": "What is my name?"},
    ]
    assert think(body(history)).content == "Your name is Ada."
    assert think(body("Reply with exactly 'pong'")).content == "pong"


def test_retrieval_prompt_quotes_the_best_context_sentence() -> None:
    system = (
        "Context information is below.\n---------------------\nParis is the capital of France. "
        "Berlin is the capital of Germany.\n---------------------\nAnswer the query."
    )
    messages = [
        {"role": "system", "content": system},
        {"role": "user", "content": "Query: capital of Germany?\nAnswer:"},
    ]
    assert think(body(messages)).content == "Berlin is the capital of Germany."


def test_tool_call_arguments_from_the_prompt() -> None:
    answer = think(body("What is 3 * 12?", tools=[ADD, MULTIPLY]))
    assert calls(answer) == [("multiply", {"a": 3, "b": 12})]
    assert answer.finish_reason == "tool_calls"
    assert answer.content == ""
    assert answer.tool_calls[0].id.startswith("call_")


def test_forced_tool_choice_and_none() -> None:
    forced = think(body("What is the value of magic_function(3)? Use the tool.", tools=[MAGIC], tool_choice="required"))
    assert calls(forced) == [("magic_function", {"input": 3})]
    named = {"type": "function", "function": {"name": "magic_function"}}
    hello = think(body("Hello!", tools=[MAGIC, WEATHER], tool_choice=named))
    assert calls(hello) == [("magic_function", {"input": 0})]
    assert think(body("Hello!", tools=[MAGIC, WEATHER], tool_choice="required")).tool_calls
    assert not think(body("Hello!", tools=[MAGIC, WEATHER])).tool_calls
    assert not think(body("What is 3 * 12?", tools=[MULTIPLY], tool_choice="none")).tool_calls


def test_parallel_calls_and_their_limit() -> None:
    request = body("Add and multiply the numbers 2 and 3", tools=[ADD, MULTIPLY])
    assert calls(think(request)) == [("add", {"a": 2, "b": 3}), ("multiply", {"a": 2, "b": 3})]
    assert len(think({**request, "parallel_tool_calls": False}).tool_calls) == 1


def test_string_arguments_places_quotes_and_unicode() -> None:
    weather = think(body("What is the weather in San Francisco, CA?", tools=[WEATHER]))
    assert calls(weather) == [("get_weather", {"location": "San Francisco, CA"})]
    customer = tool("unicode_customer", {"customer_name": {"type": "string"}, "description": {"type": "string"}})
    answer = think(body("Create a customer named '你好啊集团' (Hello Group)", tools=[customer], tool_choice="required"))
    assert calls(answer)[0][1]["customer_name"] == "你好啊集团"
    assert "\\u" not in answer.tool_calls[0].arguments
    style = tool("greeting_generator", {"answer_style": {"type": "string"}})
    pirate = think(body("Using the tool, generate a Pirate greeting.", tools=[style], tool_choice="required"))
    assert calls(pirate) == [("greeting_generator", {"answer_style": "Pirate"})]


def test_one_call_per_place() -> None:
    answer = think(body("What is the weather in Paris, London and Tokyo?", tools=[WEATHER]))
    assert calls(answer) == [("get_weather", {"location": place}) for place in ("Paris", "London", "Tokyo")]
    assert len({c.id for c in answer.tool_calls}) == 3
    single = think(body("Weather in San Francisco, CA and Austin, TX?", tools=[WEATHER], parallel_tool_calls=False))
    assert calls(single) == [("get_weather", {"location": "San Francisco, CA"})]


def test_tool_without_arguments() -> None:
    no_args = tool("magic_function_no_args", {}, description="Calculate a magic function.")
    answer = think(body("What is the value of magic_function_no_args()? Use the tool.", tools=[no_args]))
    assert calls(answer) == [("magic_function_no_args", {})]


def test_answer_after_tool_results() -> None:
    history: list[dict[str, Any]] = [
        {"role": "user", "content": "Add and multiply 2 and 3"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{}"}},
                {"id": "c2", "type": "function", "function": {"name": "multiply", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "5"},
        {"role": "tool", "tool_call_id": "c2", "content": "6"},
    ]
    answer = think(body(history, tools=[ADD, MULTIPLY]))
    assert not answer.tool_calls
    assert answer.content == "Here are the results: add returned 5; multiply returned 6."
    failed = [*history[:2], {"role": "tool", "tool_call_id": "c1", "content": "Error: missing b"}]
    assert "reported an error" in think(body(failed, tools=[ADD])).content


JOKE_SCHEMA = {
    "title": "Joke",
    "type": "object",
    "properties": {
        "setup": {"type": "string", "description": "question to set up a joke"},
        "punchline": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "rating": {"type": "integer", "minimum": 1, "maximum": 10},
    },
    "required": ["setup", "rating"],
}


def test_json_object_follows_a_schema_in_the_prompt() -> None:
    prompt = f"Tell me a joke about cats. Answer in JSON matching this schema: {json.dumps(JOKE_SCHEMA)}"
    answer = think(body(prompt, response_format={"type": "json_object"}))
    value = json.loads(answer.content)
    assert value == {
        "setup": "Why was the cat sitting on the computer?",
        "punchline": "To keep an eye on the mouse!",
        "rating": 1,
    }
    # The schema and the word JSON alone (no response_format) also give JSON, as a prompted model would.
    assert json.loads(think(body(prompt)).content) == value


def test_json_object_with_named_keys_or_none() -> None:
    keyed = think(
        body("A joke about dogs as JSON with 'setup' and 'punchline' keys.", response_format={"type": "json_object"})
    )
    assert set(json.loads(keyed.content)) == {"setup", "punchline"}
    plain = think(body("Hello", response_format={"type": "json_object"}))
    assert json.loads(plain.content) == {"answer": "Hello! How can I help you today?"}


def test_structured_tool_includes_optionals_unless_declined() -> None:
    joke = {"type": "function", "function": {"name": "Joke", "parameters": JOKE_SCHEMA}}
    named = {"type": "function", "function": {"name": "Joke"}}
    full = calls(think(body("Tell me a joke about cats.", tools=[joke], tool_choice=named)))[0][1]
    assert set(full) == {"setup", "punchline", "rating"}
    declined = calls(
        think(body("Give me the setup to a joke about cats, no punchline.", tools=[joke], tool_choice=named))
    )
    assert set(declined[0][1]) == {"setup", "rating"}


def test_schema_values_cover_refs_enums_arrays_and_formats() -> None:
    schema = {
        "type": "object",
        "$defs": {
            "Unit": {"enum": ["celsius", "fahrenheit"]},
            "Point": {"type": "object", "properties": {"x": INT}, "required": ["x"]},
        },
        "properties": {
            "unit": {"$ref": "#/$defs/Unit"},
            "numbers": {"type": "array", "items": {"type": "number"}},
            "where": {"$ref": "#/$defs/Point"},
            "email": {"type": "string", "format": "email"},
            "when": {"type": "string", "format": "date"},
            "flag": {"type": "boolean"},
        },
        "required": ["unit", "numbers", "where", "email", "when", "flag"],
    }
    value = values_for(schema, Prompt("Sum 1, 2 and 3.5 in fahrenheit for bob@example.org on 2026-03-04"))
    assert value == {
        "unit": "fahrenheit",
        "numbers": [1, 2, 3.5],
        "where": {"x": 0},
        "email": "bob@example.org",
        "when": "2026-03-04",
        "flag": False,
    }


def test_find_schema_skips_plain_json() -> None:
    assert find_schema('Example: {"a": 1}. Schema: {"type": "object", "properties": {"b": {}}}') == {
        "type": "object",
        "properties": {"b": {}},
    }
    assert find_schema("no schema {here") is None


def test_prefix_cache_reports_a_repeated_prefix() -> None:
    cache = PrefixCache()
    first = body([{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"}])
    assert cache.cached_tokens(first) == 0
    follow_up = body([*first["messages"], {"role": "assistant", "content": "Hi."}, {"role": "user", "content": "Bye"}])
    cached = cache.cached_tokens(follow_up)
    assert 0 < cached < think(follow_up).prompt_tokens
    cache.clear()
    assert cache.cached_tokens(follow_up) == 0


TWO_INTS = json.dumps({"properties": {"a": INT, "b": INT}, "required": ["a", "b"], "type": "object"})
LLAMA_REACT_SYSTEM = "\n".join(
    [
        "You have access to the following tools:",
        *(
            f"> Tool Name: {name}\nTool Description: {name}(a: int, b: int) -> int\n{doc}\nTool Args: {TWO_INTS}\n"
            for name, doc in (("add", "Add two integers."), ("multiply", "Multiply two integers."))
        ),
        "Thought: ... Action: tool name (one of add, multiply) if using a tool.",
        "Action Input: the input to the tool, in a JSON format",
        "Observation: tool response",
        "Answer: [your answer here]",
    ]
)


def test_react_protocol_steps_through_each_tool_then_answers() -> None:
    history: list[dict[str, Any]] = [
        {"role": "system", "content": LLAMA_REACT_SYSTEM},
        {"role": "user", "content": "Add and multiply 2 and 3"},
    ]
    first = think(body(history)).content
    assert first.endswith('Action: add\nAction Input: {"a": 2, "b": 3}')
    history += [{"role": "assistant", "content": first}, {"role": "user", "content": "Observation: 5"}]
    second = think(body(history)).content
    assert second.endswith('Action: multiply\nAction Input: {"a": 2, "b": 3}')
    history += [{"role": "assistant", "content": second}, {"role": "user", "content": "Observation: 6"}]
    final = think(body(history)).content
    assert final.startswith("Thought: I can answer without using any more tools.")
    assert final.endswith("Answer: add returned 5; multiply returned 6")
    chat = think(body([history[0], {"role": "user", "content": "Hello!"}])).content
    assert chat.endswith("Answer: Hello! How can I help you today?")


def test_react_protocol_in_langchains_single_prompt_form() -> None:
    prompt = (
        "Answer the following questions as best you can. You have access to the following tools:\n\n"
        "get_weather: Get the weather for a city.\n\nUse the following format:\n\nQuestion: the input question\n"
        "Thought: you should always think\nAction: the action to take, should be one of [get_weather]\n"
        "Action Input: the input to the action\nObservation: the result\nFinal Answer: the final answer\n\n"
        "Begin!\n\nQuestion: What is the weather in Oslo?\nThought:"
    )
    step = think(body(prompt)).content
    assert step.endswith("Action: get_weather\nAction Input: What is the weather in Oslo?")
    done = think(body(prompt + f"{step}\nObservation: Sunny, 20 C\nThought:")).content
    assert done.endswith("Final Answer: Sunny, 20 C")


def test_numbers_follow_the_property_they_are_written_next_to() -> None:
    schema = {
        "type": "object",
        "properties": {"motor_years": INT, "frame_years": INT, "price": {"type": "number"}},
        "required": ["motor_years", "frame_years", "price"],
    }
    prompt = Prompt("Frame warranty: 10 years. Motor warranty: 3 years. Costs 1299.5 in total.")
    assert values_for(schema, prompt) == {"motor_years": 3, "frame_years": 10, "price": 1299.5}
