"""with_structured_output in its three methods, including a model that answers in text."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from langchain_core.exceptions import OutputParserException
from pydantic import BaseModel, Field, RootModel
from typing_extensions import TypedDict

from langchain_anyfast import ChatAnyFast
from langchain_anyfast._structured import parse_json_text


class Joke(BaseModel):
    """A joke to tell the user."""

    setup: str = Field(description="question to set up a joke")
    punchline: str = Field(description="answer to resolve the joke")


class JokeDict(TypedDict):
    """A joke to tell the user."""

    setup: str
    punchline: str


JOKE_SCHEMA = Joke.model_json_schema()
JOKE = {"setup": "Why did the cat sit on the computer?", "punchline": "To keep an eye on the mouse."}


def _joke_call(glm: Any, name: str = "Joke") -> dict[str, Any]:
    return glm.completion("", tool_calls=[glm.tool_call(name, JOKE, "c0")], finish_reason="tool_calls")


@pytest.mark.parametrize("schema", [Joke, JokeDict, JOKE_SCHEMA])
def test_function_calling_forces_the_tool(server: Any, model: ChatAnyFast, glm: Any, schema: Any) -> None:
    name = "JokeDict" if schema is JokeDict else "Joke"
    server.json(_joke_call(glm, name))
    result = model.with_structured_output(schema).invoke("Tell me a joke")
    assert (result.model_dump() if isinstance(result, Joke) else result) == JOKE
    assert isinstance(result, Joke) is (schema is Joke)
    request = server.requests[0]
    assert request["tool_choice"] == {"type": "function", "function": {"name": name}}
    assert [t["function"]["name"] for t in request["tools"]] == [name]
    assert "response_format" not in request


def _growing(values: list[Any]) -> None:
    """Each value a partial of the next (strings extend, keys are added), the last the whole joke."""
    dicts = [v.model_dump() if isinstance(v, Joke) else v for v in values]
    assert len(dicts) > 3
    assert dicts[-1] == JOKE
    for before, after in itertools.pairwise(dicts):
        assert before != after
        assert set(before) <= set(after)
        assert all(after[key].startswith(before[key]) for key in before)


_STREAMED_CALL = {"tool_calls": [{"name": "Joke", "args": JOKE, "id": "c0"}], "finish_reason": "tool_calls"}


@pytest.mark.parametrize("schema", [Joke, JokeDict])
@pytest.mark.parametrize("method", ["function_calling", "json_mode", "json_schema"])
def test_stream_yields_growing_partial_values(server: Any, make_model: Any, glm: Any, method: str, schema: Any) -> None:
    # Like ChatOpenAI's: the value grows as the tool arguments (with tool_stream) or the JSON text arrive.
    if method == "function_calling":
        name = "JokeDict" if schema is JokeDict else "Joke"
        calls = [glm.tool_call(name, JOKE, "c0")]
        server.sse(glm.chunks("", tool_calls=calls, fragment_tools=True, finish_reason="tool_calls"))
    else:
        server.sse(glm.chunks(json.dumps(JOKE)))
    values = list(make_model(tool_stream=True).with_structured_output(schema, method=method).stream("Joke"))
    _growing(values)
    assert all(isinstance(v, Joke) is (schema is Joke) for v in values)
    assert server.requests[0]["stream"] is True


async def test_astream_yields_growing_partial_values(server: Any, make_model: Any, glm: Any) -> None:
    server.sse(glm.chunks("", tool_calls=[glm.tool_call("Joke", JOKE, "c0")], fragment_tools=True))
    server.sse(glm.chunks(f"```json\n{json.dumps(JOKE)}\n```"))  # a fenced answer streams too
    model = make_model(tool_stream=True)
    _growing([v async for v in model.with_structured_output(Joke).astream("Joke")])
    _growing([v async for v in model.with_structured_output(JOKE_SCHEMA, method="json_mode").astream("Joke")])


def test_stream_of_whole_tool_calls_yields_one_value(server: Any, model: ChatAnyFast, glm: Any) -> None:
    # Without tool_stream the API sends each call whole, in one chunk.
    server.sse(glm.chunks("", tool_calls=[glm.tool_call("Joke", JOKE, "c0")], finish_reason="tool_calls"))
    assert list(model.with_structured_output(Joke).stream("Joke")) == [Joke(**JOKE)]


@pytest.mark.parametrize("method", ["function_calling", "json_schema"])
async def test_stream_of_an_answer_that_does_not_fit_raises_at_the_end(
    server: Any, model: ChatAnyFast, glm: Any, method: str
) -> None:
    server.sse(glm.chunks('{"setup": "Why did the cat sit on the computer?"}'))
    server.sse(glm.chunks('{"setup": "Why did the cat sit on the computer?"}'))
    runnable = model.with_structured_output(JOKE_SCHEMA if method == "json_schema" else Joke, method=method)  # type: ignore[arg-type]
    seen: list[Any] = []
    with pytest.raises(OutputParserException, match="punchline"):
        seen.extend(runnable.stream("Joke"))
    with pytest.raises(OutputParserException, match="punchline"):
        seen.extend([value async for value in runnable.astream("Joke")])
    # A JSON schema's partial dicts were shown as they came; a pydantic class shows only valid objects.
    assert bool(seen) is (method == "json_schema")


def test_function_calling_answered_in_text_is_parsed(server: Any, model: ChatAnyFast, glm: Any) -> None:
    # GLM documents only tool_choice="auto": a forced call may come back as text.
    server.json(glm.completion(f"Sure! Here it is:\n```json\n{json.dumps(JOKE)}\n```"))
    assert model.with_structured_output(Joke).invoke("Tell me a joke") == Joke(**JOKE)


def test_function_calling_answered_in_prose_raises_clearly(server: Any, model: ChatAnyFast, glm: Any) -> None:
    server.json(glm.completion("Why did the cat sit on the computer? To keep an eye on the mouse!"))
    with pytest.raises(OutputParserException, match="holds no JSON object"):
        model.with_structured_output(Joke).invoke("Tell me a joke")


def test_function_calling_with_empty_answer_raises_clearly(server: Any, model: ChatAnyFast, glm: Any) -> None:
    server.json(glm.completion("", reasoning="Hmm."))
    with pytest.raises(OutputParserException, match="neither called 'Joke' nor answered with JSON"):
        model.with_structured_output(Joke).invoke("Tell me a joke")


def test_wrong_shape_raises_clearly(server: Any, model: ChatAnyFast, glm: Any) -> None:
    server.json(
        glm.completion("", tool_calls=[glm.tool_call("Joke", {"setup": "x"}, "c0")], finish_reason="tool_calls")
    )
    server.json(glm.completion('{"setup": "x"}'))
    with pytest.raises(OutputParserException, match="does not match Joke"):
        model.with_structured_output(Joke).invoke("Tell me a joke")
    with pytest.raises(OutputParserException, match=r"lacks required keys \['punchline'\]"):
        model.with_structured_output(JOKE_SCHEMA, method="json_schema").invoke("Tell me a joke")


def test_json_mode(server: Any, model: ChatAnyFast, glm: Any) -> None:
    server.json(glm.completion(json.dumps(JOKE)))
    server.json(glm.completion(json.dumps(JOKE)))
    assert model.with_structured_output(Joke, method="json_mode").invoke("Joke as JSON") == Joke(**JOKE)
    assert model.with_structured_output(method="json_mode").invoke("Joke as JSON") == JOKE
    with_schema, without = server.requests
    assert with_schema["response_format"] == without["response_format"] == {"type": "json_object"}
    assert with_schema["messages"][0]["role"] == "system"  # the schema, stated for the model
    assert '"punchline"' in with_schema["messages"][0]["content"]
    assert without["messages"] == [{"role": "user", "content": "Joke as JSON"}]
    assert "tools" not in with_schema


@pytest.mark.parametrize("schema", [Joke, JokeDict, JOKE_SCHEMA])
def test_json_schema_is_emulated_on_json_object(server: Any, model: ChatAnyFast, glm: Any, schema: Any) -> None:
    server.json(glm.completion(json.dumps(JOKE)))
    result = model.with_structured_output(schema, method="json_schema").invoke("Tell me a joke")
    assert (result.model_dump() if isinstance(result, Joke) else result) == JOKE
    request = server.requests[0]
    assert request["response_format"] == {"type": "json_object"}
    system = request["messages"][0]
    assert system["role"] == "system"
    assert '"punchline"' in system["content"]
    assert "JSON schema" in system["content"]
    assert request["messages"][1] == {"role": "user", "content": "Tell me a joke"}


def test_include_raw(server: Any, model: ChatAnyFast, glm: Any) -> None:
    server.json(_joke_call(glm))
    server.json(glm.completion("No joke today."))
    ok = model.with_structured_output(Joke, include_raw=True).invoke("Joke")
    assert ok["parsed"] == Joke(**JOKE)
    assert ok["parsing_error"] is None
    assert ok["raw"].tool_calls[0]["name"] == "Joke"
    bad = model.with_structured_output(Joke, include_raw=True).invoke("Joke")
    assert bad["parsed"] is None
    assert isinstance(bad["parsing_error"], OutputParserException)
    assert bad["raw"].content == "No joke today."


async def test_structured_output_async(server: Any, model: ChatAnyFast, glm: Any) -> None:
    server.json(_joke_call(glm))
    assert await model.with_structured_output(Joke).ainvoke("Joke") == Joke(**JOKE)


def test_bad_arguments() -> None:
    model = ChatAnyFast(api_key="k")
    with pytest.raises(ValueError, match="method='xml'"):
        model.with_structured_output(Joke, method="xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs a schema"):
        model.with_structured_output(None)
    with pytest.raises(ValueError, match="Unexpected arguments"):
        model.with_structured_output(Joke, tools=[])


@pytest.mark.parametrize(
    "schema",
    [
        int,
        str,
        list[int],
        "Joke",
        Joke(**JOKE),
        {"type": "array", "items": {}},
        {"properties": {}},
        RootModel[list[int]],
    ],
)
def test_unsupported_schemas_are_refused_clearly(schema: Any) -> None:
    with pytest.raises(
        ValueError, match=r"schema=.*allowed: a pydantic model class, a TypedDict class, or a JSON schema"
    ):
        ChatAnyFast(api_key="k").with_structured_output(schema)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"a": 1}', {"a": 1}),
        ("  [1, 2]  ", [1, 2]),
        ('```json\n{"a": 1}\n```', {"a": 1}),
        ('```\n{"a": "é"}\n```', {"a": "é"}),
        ('Here: {"a": {"b": [1, "}"]}} -- done', {"a": {"b": [1, "}"]}}),
        ('{broken} then {"a": 2}', {"a": 2}),
    ],
)
def test_parse_json_text(text: str, value: Any) -> None:
    assert parse_json_text(text) == value


def test_parse_json_text_without_json() -> None:
    with pytest.raises(OutputParserException, match="holds no JSON object"):
        parse_json_text("no json { here")
