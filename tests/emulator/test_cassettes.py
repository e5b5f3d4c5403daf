"""Cassettes: nothing secret in them, a known origin for each, and a record/replay round trip that
matches across ports and refuses the network when a cassette is missing."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from vcr.errors import CannotOverwriteExistingCassetteException

from anyfast_core import AnyFastClient, ChatRequest
from anyfast_emulator import Emulator

CASSETTES = Path(os.environ.get("ANYFAST_CASSETTE_DIR") or Path(__file__).resolve().parents[2] / "cassettes")
"""The tree to scan: ``cassettes/``, or where ``scripts/record_cassettes.py --cassette-dir`` just recorded."""
LIVE_KEY = os.environ.get("ANYFAST_API_KEY")  # read before the hygiene fixture clears it
PLACEHOLDERS = frozenset({"REDACTED", "PLACEHOLDER", "<redacted>"})
SECRET_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "cookie", "set-cookie", "proxy-authorization"})
ORIGINS = ("http://127.0.0.1:8765/", "https://www.anyfast.ai/", "https://anyfast.ai/")

SECRET_PATTERNS = {
    "bearer token": re.compile(r"(?i)\bbearer\s+(?!REDACTED\b|PLACEHOLDER\b)[A-Za-z0-9._~+/=-]{6,}"),
    "sk- key": re.compile(r"\b(?:sk|ak|pk)-[A-Za-z0-9_-]{16,}"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    "key assignment": re.compile(
        r"(?i)[\"']?(?:api[_-]?key|secret|access[_-]?token)[\"']?\s*[:=]\s*[\"']?(?!REDACTED)[A-Za-z0-9._-]{12,}"
    ),
    "emulator key": re.compile(r"emulator-test-key"),
}


def find_secrets(text: str, live_key: str | None = LIVE_KEY) -> list[str]:
    """What in ``text`` looks like a credential (pattern names, with the offending snippet)."""
    found = [f"{name}: {m.group(0)[:24]}" for name, pattern in SECRET_PATTERNS.items() for m in pattern.finditer(text)]
    if live_key and len(live_key) >= 8 and live_key in text:
        found.append("the ANYFAST_API_KEY value")
    return found


def cassette_files() -> list[Path]:
    return sorted(p for p in CASSETTES.rglob("*") if p.is_file() and p.name != "README.md")


@pytest.mark.parametrize(
    "text",
    [
        "authorization: Bearer abcdef123456",
        "sk-abcdefghijklmnop1234",
        'api_key: "a1b2c3d4e5f6g7h8"',
        "eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4",
        "emulator-test-key",
    ],
)
def test_the_scanner_finds_what_it_should(text: str) -> None:
    assert find_secrets(text)
    assert find_secrets("live 0123456789abcdef here", live_key="0123456789abcdef")


def test_the_scanner_passes_redacted_and_ordinary_text() -> None:
    assert not find_secrets(
        "authorization:\n- REDACTED\nBearer REDACTED\ncall_51a97502d6444997b56fd204 total_tokens: 42"
    )


def test_no_cassette_holds_anything_key_like() -> None:
    problems = {
        str(p.relative_to(CASSETTES)): hits for p in cassette_files() if (hits := find_secrets(p.read_text("utf-8")))
    }
    assert not problems, problems


def test_secret_headers_are_redacted_and_origins_are_known() -> None:
    for path in cassette_files():
        if path.suffix not in (".yaml", ".yml"):
            continue
        data = yaml.safe_load(path.read_text("utf-8")) or {}
        for interaction in data.get("interactions", []):
            request = interaction["request"]
            assert request["uri"].startswith(ORIGINS), (path, request["uri"])
            for name, values in (request.get("headers") or {}).items():
                if name.lower() in SECRET_HEADERS:
                    assert set(values) <= PLACEHOLDERS, (path, name)
            response_headers = interaction["response"].get("headers") or {}
            assert not SECRET_HEADERS & {n.lower() for n in response_headers}, path


REQUEST = ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": "Hello"}])


def test_record_then_replay_on_another_port_without_a_server(tmp_path: Path, use_cassette: Any) -> None:
    with (
        Emulator(api_keys=["sk-live-looking-key-0000000000"]) as emu,
        use_cassette(tmp_path, "round_trip", "once"),
        AnyFastClient(api_key=emu.api_key, base_url=emu.base_url) as client,
    ):
        recorded = client.chat(REQUEST)
        with client.stream(REQUEST) as stream:
            streamed = "".join(delta.content for delta in stream)
        port = emu.port
    text = (tmp_path / "round_trip.yaml").read_text("utf-8")
    assert not find_secrets(text)
    assert f"127.0.0.1:{port}" not in text
    assert "http://127.0.0.1:8765/v1/chat/completions" in text
    # The server is gone; a different loopback port and key still replay (method, path, JSON body match).
    with (
        use_cassette(tmp_path, "round_trip"),
        AnyFastClient(api_key="other", base_url="http://127.0.0.1:9/v1", max_retries=0) as client,
    ):
        assert client.chat(REQUEST).model_dump() == recorded.model_dump()
        with client.stream(REQUEST) as stream:
            assert "".join(delta.content for delta in stream) == streamed
        different = ChatRequest.create(model="glm-5.2", messages=[{"role": "user", "content": "Bye"}])
        with pytest.raises(CannotOverwriteExistingCassetteException):
            client.chat(different)


def test_a_missing_cassette_fails_instead_of_calling_out(tmp_path: Path, use_cassette: Any, emulator: Emulator) -> None:
    with (
        use_cassette(tmp_path, "absent"),
        AnyFastClient(api_key=emulator.api_key, base_url=emulator.base_url, max_retries=0) as client,
        pytest.raises(CannotOverwriteExistingCassetteException),
    ):
        client.chat(REQUEST)
    assert emulator.requests == []
    assert not (tmp_path / "absent.yaml").exists()
