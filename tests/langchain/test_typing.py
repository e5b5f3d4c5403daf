"""The names users write type-check: ``ChatAnyFast(model=..., stop=..., timeout=...)`` passes mypy
(pydantic models take their ``alias`` as the only ``__init__`` keyword in a type checker's eyes), while
the LangChain-wide spellings ``model_name``, ``stop_sequences`` and ``request_timeout`` still work."""

from __future__ import annotations

from pathlib import Path

from langchain_core.load import dumpd, load

from langchain_anyfast import ChatAnyFast

USER_CODE = """\
from langchain_anyfast import ChatAnyFast

model = ChatAnyFast(model="glm-5.2", stop=["x"], timeout=30)
name: str = model.model
ChatAnyFast(model=5)  # the one error: proof that the check looks at these keywords
"""


def test_the_documented_keywords_type_check(tmp_path: Path) -> None:
    from mypy import api

    snippet = tmp_path / "user_code.py"
    snippet.write_text(USER_CODE)
    report, errors, status = api.run(
        [str(snippet), "--strict", "--no-error-summary", "--cache-dir", str(tmp_path / "cache")]
    )
    assert errors == ""
    lines = report.splitlines()
    assert len(lines) == 1, report
    assert "user_code.py:5: error:" in lines[0], report
    assert '"model"' in lines[0], report
    assert "[arg-type]" in lines[0], report
    assert status == 1


def test_both_spellings_work_at_runtime() -> None:
    short = ChatAnyFast(api_key="k", model="glm-4.5", stop=["x"], timeout=5)
    long = ChatAnyFast(api_key="k", model_name="glm-4.5", stop_sequences=["x"], request_timeout=5)
    assert (short.model, short.stop, short.timeout) == (long.model, long.stop, long.timeout) == ("glm-4.5", ["x"], 5)


def test_serialization_round_trips_under_the_documented_names() -> None:
    model = ChatAnyFast(api_key="k", model_name="glm-4.5", stop_sequences=["x"], request_timeout=5)
    data = dumpd(model)
    assert {"model", "stop", "timeout"} <= data["kwargs"].keys()
    assert data["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": ["ANYFAST_API_KEY"]}
    again = load(
        data,
        secrets_map={"ANYFAST_API_KEY": "k"},
        valid_namespaces=["langchain_anyfast"],
        allowed_objects=[ChatAnyFast],
    )
    assert isinstance(again, ChatAnyFast)
    assert (again.model, again.stop, again.timeout) == ("glm-4.5", ["x"], 5)
