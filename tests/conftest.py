"""Shared fixtures: the emulator, environment hygiene, and cassette (VCR) configuration.

Fixtures:

* ``emulator`` — the session's GLM-dialect :class:`~anyfast_emulator.Emulator`, reset before each
  test (no requests recorded, fault counters and prompt cache cleared). ``emulator_openai`` is the
  same in the OpenAI stream dialect. ``emulator_server``/``emulator_openai_server`` are the un-reset
  session objects, for session- or module-scoped fixtures of your own; ``emulator_any`` runs a test
  once per dialect.
* ``record_target`` — where cassette-backed tests should point their client: the live API when
  recording with ``ANYFAST_RECORD_TARGET=live``, the session emulator otherwise (when replaying,
  VCR answers before any socket is opened, so the URL only has to be loopback).
* ``vcr_config`` / ``vcr_cassette_dir`` — cassettes live in the top-level ``cassettes/<test dir>/<module>/``,
  secrets are filtered, and requests match on method, path and JSON body (so any host and port
  replays). Recording is off unless ``--record-mode`` says otherwise (``pyproject.toml`` passes
  ``--record-mode=none``): a missing cassette fails the test instead of calling the network.
  Re-record with ``python scripts/record_cassettes.py`` (see ``cassettes/README.md``). ``use_cassette``
  gives the same configuration to tests of the cassette machinery itself.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from anyfast_emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "cassettes"
CASSETTE_DIR_ENV = "ANYFAST_CASSETTE_DIR"
"""Another root for the cassette tree (``scripts/record_cassettes.py --cassette-dir``), e.g. to record into a
scratch directory and compare it with ``cassettes/``."""
TESTS = ROOT / "tests"
RECORD_TARGET_ENV = "ANYFAST_RECORD_TARGET"
ENV_VARS = ("ANYFAST_API_KEY", "ANYFAST_BASE_URL")

# Headers that carry credentials or session state; request and response.
SECRET_HEADERS = ("authorization", "api-key", "x-api-key", "cookie", "set-cookie", "proxy-authorization")
_SECRETISH_HEADER = re.compile(r"(key|token|secret|auth|cookie|session)", re.IGNORECASE)
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}")
_KEYLIKE = re.compile(r"\b(?:sk|ak|pk)-[A-Za-z0-9_-]{16,}\b")
RECORDED_EMULATOR_ORIGIN = "http://127.0.0.1:8765"
"""Loopback origins are rewritten to this one so re-recording does not churn ports in diffs."""


def recording_live() -> bool:
    return os.environ.get(RECORD_TARGET_ENV, "").lower() == "live"


# --------------------------------------------------------------------------- environment


@pytest.fixture(autouse=True)
def _anyfast_env_hygiene(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see no ANYFAST_* settings of the developer's shell unless they set them themselves
    (kept only while recording against the live API, which needs the key)."""
    if not recording_live():
        for name in ENV_VARS:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The core's retry waits, recorded instead of slept (so attempts can be counted fast)."""
    import asyncio

    import anyfast_core.client as core_client

    waits: list[float] = []
    real_async_sleep = asyncio.sleep

    async def async_sleep(seconds: float) -> None:
        waits.append(seconds)
        await real_async_sleep(0)

    monkeypatch.setattr(core_client, "_sleep", waits.append)
    monkeypatch.setattr(core_client, "_async_sleep", async_sleep)
    return waits


# --------------------------------------------------------------------------- the emulator


# Unknown model ids are a 404 (code 1211), as on the real API; LangChain's standard suite overrides the
# model per call with a second id (tests/langchain/capabilities.py), so the session's emulators serve it too.
SERVED_MODELS = ("glm-5.2", "glm-5.2-air")


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    with Emulator(dialect="glm", models=SERVED_MODELS) as emu:
        yield emu


@pytest.fixture(scope="session")
def emulator_openai_server() -> Iterator[Emulator]:
    with Emulator(dialect="openai", models=SERVED_MODELS) as emu:
        yield emu


@pytest.fixture
def emulator(emulator_server: Emulator) -> Emulator:
    """The GLM-dialect emulator, reset for this test."""
    emulator_server.reset()
    return emulator_server


@pytest.fixture
def emulator_openai(emulator_openai_server: Emulator) -> Emulator:
    """The OpenAI-dialect emulator, reset for this test."""
    emulator_openai_server.reset()
    return emulator_openai_server


@pytest.fixture(params=["glm", "openai"])
def emulator_any(request: pytest.FixtureRequest) -> Emulator:
    """Each dialect in turn (a parametrised ``emulator``)."""
    name = "emulator_server" if request.param == "glm" else "emulator_openai_server"
    emu: Emulator = request.getfixturevalue(name)
    emu.reset()
    return emu


@dataclass(frozen=True)
class RecordTarget:
    """Where a cassette-backed test sends its requests."""

    base_url: str
    api_key: str
    live: bool


@pytest.fixture
def record_target(emulator: Emulator) -> RecordTarget:
    if recording_live():
        key = os.environ.get("ANYFAST_API_KEY")
        if not key:
            pytest.fail("ANYFAST_RECORD_TARGET=live needs ANYFAST_API_KEY")
        base = os.environ.get("ANYFAST_BASE_URL") or "https://www.anyfast.ai/v1"
        return RecordTarget(base, key, live=True)
    return RecordTarget(emulator.base_url, emulator.api_key, live=False)


# --------------------------------------------------------------------------- cassettes


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    """``cassettes/<path of the test module under tests/, without .py>/``."""
    module = Path(str(request.node.fspath)).resolve()
    try:
        relative = module.relative_to(TESTS).with_suffix("")
    except ValueError:
        relative = Path(module.stem)
    return str(Path(os.environ.get(CASSETTE_DIR_ENV) or CASSETTES) / relative)


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, Any]:
    from vcr import VCR

    return {
        "filter_headers": [(name, "REDACTED") for name in SECRET_HEADERS],
        "filter_query_parameters": [("api_key", "REDACTED"), ("key", "REDACTED")],
        "match_on": ["method", "path", "json_body"],
        "before_record_request": scrub_request,
        "before_record_response": scrub_response,
        "decode_compressed_response": True,
        "allow_playback_repeats": True,
        "path_transformer": VCR.ensure_suffix(".yaml"),
    }


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    vcr.register_matcher("json_body", json_body_matcher)
    vcr.register_serializer(CASSETTE_SERIALIZER, OrderedYamlSerializer)


@pytest.fixture(scope="session")
def use_cassette(vcr_config: dict[str, Any]) -> Any:
    """A ``use_cassette(directory, name, record_mode="none")`` context manager configured exactly like the
    cassette-backed tests, for tests of the cassette machinery itself."""
    from vcr import VCR

    def factory(directory: str | Path, name: str, record_mode: str = "none") -> Any:
        recorder = VCR(cassette_library_dir=str(directory), record_mode=record_mode)
        recorder.register_matcher("json_body", json_body_matcher)
        recorder.register_serializer(CASSETTE_SERIALIZER, OrderedYamlSerializer)
        return recorder.use_cassette(name, **vcr_config)

    return factory


CASSETTE_SERIALIZER = "yaml"
"""Registered in place of vcrpy's own ``yaml`` serializer (the default; pytest-recording derives the
cassette's file suffix from a serializer's name, so a new name would move every file)."""


def _interaction_order(interaction: dict[str, Any]) -> tuple[str, str, int, str]:
    """Where an interaction goes in its cassette: by method and URI, then by conversation length (so the
    turns of one conversation keep their order), then by body. Calls made concurrently (``batch``,
    ``abatch``) finish in any order; sorting them makes two recordings of the same tests byte-identical."""
    request = interaction["request"]
    body = request.get("body") or ""
    text = body if isinstance(body, str) else bytes(body).decode("utf-8", "replace")
    parsed = normalised_body(text)
    turns = len(parsed.get("messages") or ()) if isinstance(parsed, dict) else 0
    return (str(request.get("method")), str(request.get("uri")), turns, text)


class OrderedYamlSerializer:
    """vcrpy's YAML format, with the interactions in a fixed order (see ``_interaction_order``).

    Replay matches on method, path and body, so the order only matters among identical requests,
    and a stable sort keeps theirs."""

    @staticmethod
    def deserialize(cassette_string: str) -> Any:
        from vcr.serializers import yamlserializer

        return yamlserializer.deserialize(cassette_string)

    @staticmethod
    def serialize(cassette_dict: dict[str, Any]) -> str:
        from vcr.serializers import yamlserializer

        ordered = sorted(cassette_dict["interactions"], key=_interaction_order)
        return str(yamlserializer.serialize({**cassette_dict, "interactions": ordered}))


def normalised_body(body: Any) -> Any:
    """A request body for comparison: parsed JSON when it is JSON, else the raw bytes."""
    if body is None or body == b"" or body == "":
        return None
    raw = body.encode() if isinstance(body, str) else bytes(body)
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def json_body_matcher(r1: Any, r2: Any) -> None:
    """Bodies match when they are the same JSON value (key order and spacing do not matter)."""
    if normalised_body(r1.body) != normalised_body(r2.body):
        raise AssertionError("request bodies differ as JSON")


def _redact_text(text: str) -> str:
    text = _BEARER.sub("Bearer REDACTED", text)
    text = _KEYLIKE.sub("REDACTED", text)
    live_key = os.environ.get("ANYFAST_API_KEY")
    if live_key and len(live_key) >= 8:
        text = text.replace(live_key, "REDACTED")
    return text


def scrub_request(request: Any) -> Any:
    """Before a request is stored or matched: no secret-bearing headers, a stable loopback origin."""
    for name in list(request.headers):
        if name.lower() in SECRET_HEADERS or (_SECRETISH_HEADER.search(name) and name.lower() != "x-anyfast-fault"):
            request.headers[name] = "REDACTED"
    parts = urlsplit(request.uri)
    if parts.hostname in ("127.0.0.1", "localhost", "::1"):
        netloc = RECORDED_EMULATOR_ORIGIN.split("://", 1)[1]
        request.uri = urlunsplit(("http", netloc, parts.path, parts.query, ""))
        for name in list(request.headers):
            if name.lower() == "host":
                request.headers[name] = netloc
    if isinstance(request.body, bytes) and request.body:
        scrubbed = _redact_text(request.body.decode("utf-8", "replace"))
        if scrubbed != request.body.decode("utf-8", "replace"):
            request.body = scrubbed.encode()
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """Before a response is stored: drop cookies and anything key-like from headers and body."""
    headers = response.get("headers") or {}
    for name in list(headers):
        if name.lower() in SECRET_HEADERS or _SECRETISH_HEADER.search(name):
            del headers[name]
    body = response.get("body") or {}
    content = body.get("string")
    if isinstance(content, bytes) and content:
        text = content.decode("utf-8", "replace")
        redacted = _redact_text(text)
        if redacted != text:
            body["string"] = redacted.encode()
    elif isinstance(content, str) and content:
        body["string"] = _redact_text(content)
    return response
