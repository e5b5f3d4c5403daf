"""Values for a JSON schema, taken from the prompt where it offers them: the emulator's argument maker.

Numbers come from the prompt in order (``"what is 3 * 12"`` gives ``a=3, b=12``), strings from quoted
text, place names, proper nouns or the topic, enum values from whichever one the prompt mentions; what
the prompt does not offer gets a plausible constant by type, format and range. Pure and deterministic.

>>> prompt = Prompt("What is 3 * 12?")
>>> values_for({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
...             "required": ["a", "b"]}, prompt)
{'a': 3, 'b': 12}
"""

from __future__ import annotations

import re
from typing import Any

from anyfast_emulator.heuristics.selection import name_words

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
_QUOTED = re.compile(
    r"(?<!\w)'([^'\n]{1,200})'(?!\w)|\"([^\"\n]{1,200})\"|“([^”\n]{1,200})”|\u2018([^\u2019\n]{1,200})\u2019|「([^」\n]{1,200})」"
)
_PROPER = re.compile(r"[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*")
_PLACE = r"[A-Z][\w'.-]*(?:(?:\s+|,\s*)[A-Z][\w'.-]*)*"
_LOCATION = re.compile(rf"\b(?:in|at|near|for|from|to)\s+({_PLACE})")
_MORE_PLACES = re.compile(rf"\s*,?\s*(?:and|or|&)\s+({_PLACE})")
_TOPIC = re.compile(r"\babout\s+(?:the\s+|a\s+|an\s+)?([\w' -]+?)(?=[.,!?;:]|$|\s+(?:and|with|in|that)\b)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_URL = re.compile(r"https?://[^\s'\"<>]+")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")

NAME_FIELDS = ("name", "title", "person", "user", "customer", "company", "author", "label")
PLACE_FIELDS = ("location", "city", "place", "address", "destination", "country", "region", "origin")
QUERY_FIELDS = ("query", "question", "search", "text", "input", "prompt", "message", "content", "request", "q")
STYLE_FIELDS = ("style", "tone", "voice", "mood", "language", "persona", "manner")
ID_FIELDS = ("id", "sku", "code", "ref", "reference")
_IDENTIFIER = re.compile(r"\b(?=[A-Za-z-]*\d)(?=[\d-]*[A-Za-z])[A-Za-z0-9-]{2,}\b")
"""A product code, SKU or ticket id as people write them: letters and digits together ("K2", "A-113")."""
PROSE_FIELDS = ("description", "summary", "reason", "explanation", "details", "notes", "comment", "answer")

JOKES: dict[str, tuple[str, str]] = {
    "cat": ("Why was the cat sitting on the computer?", "To keep an eye on the mouse!"),
    "dog": ("Why did the dog sit in the shade?", "Because he didn't want to be a hot dog!"),
    "bear": ("What do you call a bear with no teeth?", "A gummy bear!"),
    "fish": ("Why are fish so smart?", "Because they live in schools!"),
    "computer": ("Why did the computer go to the doctor?", "Because it had a virus!"),
}


class Prompt:
    """The user's turn, indexed for argument making. Numbers and strings are handed out in order,
    each at most once per object, so ``a`` and ``b`` get different numbers."""

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        self.lower = self.text.lower()
        self.words = set(re.findall(r"\w+", self.lower))
        self._numbers = _numbers(self.text)
        self.numbers: list[int | float] = [value for _, value in self._numbers]
        self.quoted = [next(g for g in m.groups() if g is not None) for m in _QUOTED.finditer(self.text)]
        self.locations = _locations(self.text)
        self.proper = _proper_nouns(self.text)
        topic = _TOPIC.search(self.text)
        self.topic = topic.group(1).strip() if topic else ""
        self._used_numbers: set[int] = set()
        self._used: set[str] = set()

    def fresh(self) -> Prompt:
        """The same prompt with nothing handed out yet (for the next tool call)."""
        return Prompt(self.text)

    def take_number(self, near: str = "") -> int | float | None:
        """The first unused number right after a mention of ``near`` (a property name, so "frame: 10,
        motor: 3" fills ``motor`` with 3 whatever the schema's order), else the first unused one."""
        for word in name_words(near):
            if len(word) < 3:
                continue
            for mention in re.finditer(rf"\b{re.escape(word)}", self.lower):
                for i, (position, value) in enumerate(self._numbers):
                    if i not in self._used_numbers and 0 <= position - mention.end() <= 40:
                        self._used_numbers.add(i)
                        return value
        for i, (_, value) in enumerate(self._numbers):
            if i not in self._used_numbers:
                self._used_numbers.add(i)
                return value
        return None

    def remaining_numbers(self) -> list[int | float]:
        rest = [value for i, (_, value) in enumerate(self._numbers) if i not in self._used_numbers]
        self._used_numbers.update(range(len(self._numbers)))
        return rest

    def take(self, candidates: list[str]) -> str | None:
        for candidate in candidates:
            if candidate and candidate not in self._used:
                self._used.add(candidate)
                return candidate
        return None

    def mentions(self, word: str) -> bool:
        return word.lower() in self.words or word.lower() in self.lower

    def joke(self) -> tuple[str, str]:
        for key, joke in JOKES.items():
            if key in self.lower:
                return joke
        subject = self.topic or "programmer"
        return (f"Why did the {subject} cross the road?", f"To get to the other side of the {subject} joke!")


def _locations(text: str) -> list[str]:
    """Place names after "in", "at", "for"...; "in Paris and London" gives both."""
    places: list[str] = []
    for match in _LOCATION.finditer(text):
        listed = [match.group(1).strip()]
        end = match.end()
        while more := _MORE_PLACES.match(text, end):
            listed.append(more.group(1).strip())
            end = more.end()
        if len(listed) > 1:
            # "Paris, London and Tokyo" is three places; "San Francisco, CA" stays one.
            listed = [part for place in listed for part in _split_list(place)]
        places += listed
    return list(dict.fromkeys(places))


def _split_list(place: str) -> list[str]:
    parts = re.split(r",\s+", place)
    if len(parts) > 1 and re.fullmatch(r"[A-Z]{2,3}", parts[-1]):
        return [place]
    return parts


def place_parameter(schema: dict[str, Any]) -> str | None:
    """The one required parameter of ``schema`` when it is a place name (so a tool can be called once per place)."""
    required = schema.get("required") or []
    properties = schema.get("properties") or {}
    if len(required) != 1 or not isinstance(properties.get(required[0]), dict):
        return None
    name = required[0]
    kind = properties[name].get("type", "string")
    return name if kind == "string" and _is(name_words(name), PLACE_FIELDS) else None


def _numbers(text: str) -> list[tuple[int, int | float]]:
    """The numbers in ``text`` with their positions."""

    def blank(match: re.Match[str]) -> str:
        return " " * len(match.group(0))

    # Digits inside dates, e-mail addresses and URLs are not quantities (blanked, keeping positions).
    text = _DATE.sub(blank, _EMAIL.sub(blank, _URL.sub(blank, text)))
    found: list[tuple[int, int | float]] = []
    for match in _NUMBER.finditer(text):
        token = match.group(0)
        if token.startswith("-"):
            before = text[: match.start()].rstrip()
            if before and (before[-1].isdigit() or before[-1] == ")"):
                token = token[1:]  # "5 - 3": the dash is the operator, not a sign
        found.append((match.start(), float(token) if "." in token else int(token)))
    return found


def _proper_nouns(text: str) -> list[str]:
    nouns = []
    for match in _PROPER.finditer(text):
        before = text[: match.start()].rstrip()
        if not before or before[-1] in ".!?:\n":
            # Sentence-initial capitals are grammar, not names; keep the rest of a multi-word run.
            rest = match.group(0).split(None, 1)
            if len(rest) < 2:
                continue
            nouns.append(rest[1])
            continue
        if match.group(0) != "I":
            nouns.append(match.group(0))
    return nouns


def resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with ``$ref``, single-branch ``allOf`` and nullable ``anyOf``/``oneOf`` resolved."""
    if not isinstance(schema, dict):
        return {}
    for _ in range(20):  # refs may chain; a bound keeps a cyclic schema from looping
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = root
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            schema = {
                **{k: v for k, v in schema.items() if k != "$ref"},
                **(target if isinstance(target, dict) else {}),
            }
            continue
        branches = schema.get("anyOf") or schema.get("oneOf")
        if isinstance(branches, list) and branches:
            options = [b for b in branches if not (isinstance(b, dict) and b.get("type") == "null")] or branches
            rest = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            schema = {**rest, **(options[0] if isinstance(options[0], dict) else {})}
            continue
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and all_of:
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in all_of:
                if isinstance(part, dict):
                    merged.update(resolve(part, root))
            schema = merged
            continue
        break
    return dict(schema)


def schema_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if isinstance(kind, str):
        return kind
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    if schema.get("enum"):
        first = schema["enum"][0]
        return {bool: "boolean", int: "integer", float: "number"}.get(type(first), "string")
    return "string"


def values_for(schema: dict[str, Any], prompt: Prompt, *, structured: bool = False) -> dict[str, Any]:
    """An object for an object schema. Required properties always get a value; optional ones when the
    prompt names them (tool arguments) or, for ``structured`` output, unless the prompt says "no X"."""
    value = value_for(schema, prompt, name="", root=schema, structured=structured)
    return value if isinstance(value, dict) else {}


def value_for(schema: Any, prompt: Prompt, *, name: str, root: dict[str, Any], structured: bool, depth: int = 0) -> Any:
    schema = resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return next((v for v in enum if isinstance(v, str) and prompt.mentions(v)), enum[0])
    kind = schema_type(schema)
    if kind == "object":
        if depth > 6:
            return {}
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        result: dict[str, Any] = {}
        for prop, sub in properties.items():
            if prop not in required and not _wanted(prop, prompt, structured):
                continue
            result[prop] = value_for(sub, prompt, name=prop, root=root, structured=structured, depth=depth + 1)
        return result
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        item_type = schema_type(resolve(items, root))
        minimum = int(schema.get("minItems") or 1)
        if item_type in ("integer", "number"):
            numbers = prompt.remaining_numbers()
            values = [_number(items, n, root) for n in numbers] or [_number(items, None, root)]
            while len(values) < minimum:
                values.append(values[-1])
            return values
        return [
            value_for(items, prompt, name=_singular(name), root=root, structured=structured, depth=depth + 1)
            for _ in range(max(1, minimum))
        ]
    if kind in ("integer", "number"):
        return _number(schema, prompt.take_number(near=name), root)
    if kind == "boolean":
        if isinstance(schema.get("default"), bool):
            return schema["default"]
        words = [w for w in name_words(name) if len(w) > 2]
        if any(f"{neg} {w}" in prompt.lower for w in words for neg in ("no", "not", "without")):
            return False
        return any(prompt.mentions(w) for w in words)
    if kind == "null":
        return None
    return string_value(name, schema, prompt)


def _wanted(prop: str, prompt: Prompt, structured: bool) -> bool:
    words = name_words(prop)
    negated = any(f"{neg} {w}" in prompt.lower for w in words for neg in ("no", "without", "not include"))
    if structured:
        return not negated
    return not negated and any(prompt.mentions(w) for w in words if len(w) > 2)


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") and len(name) > 3 else name


def _number(schema: dict[str, Any], found: int | float | None, root: dict[str, Any]) -> int | float:
    schema = resolve(schema, root)
    integer = schema_type(schema) == "integer"
    value: float = (
        found
        if found is not None
        else schema.get("default", 0)
        if isinstance(schema.get("default"), (int, float))
        else 0
    )
    low = schema.get("minimum")
    high = schema.get("maximum")
    step = 1 if integer else 0.5
    if isinstance(schema.get("exclusiveMinimum"), (int, float)):
        low = max(low if isinstance(low, (int, float)) else -(10**18), schema["exclusiveMinimum"] + step)
    if isinstance(schema.get("exclusiveMaximum"), (int, float)):
        high = min(high if isinstance(high, (int, float)) else 10**18, schema["exclusiveMaximum"] - step)
    if isinstance(low, (int, float)) and value < low:
        value = low
    if isinstance(high, (int, float)) and value > high:
        value = high
    if integer:
        return int(value)
    return int(value) if float(value).is_integer() and found is not None and isinstance(found, int) else value


def string_value(name: str, schema: dict[str, Any], prompt: Prompt) -> str:
    """A string for property ``name``: what the prompt offers for that kind of field, else a plausible
    constant. Never empty."""
    words = name_words(name)
    fmt = schema.get("format")
    if fmt == "email":
        return _first(_EMAIL.findall(prompt.text)) or "user@example.com"
    if fmt in ("uri", "url") or "url" in words:
        return _first(_URL.findall(prompt.text)) or "https://example.com"
    if fmt == "date":
        return _first(_DATE.findall(prompt.text)) or "2026-01-01"
    if fmt == "date-time":
        found = _first(_DATE.findall(prompt.text))
        return f"{found}T00:00:00Z" if found else "2026-01-01T00:00:00Z"
    if fmt == "time":
        return "12:00:00"
    if fmt == "uuid":
        return "00000000-0000-4000-8000-000000000000"
    if "joke" in prompt.lower and words:
        setup, punchline = prompt.joke()
        if words[0] in ("setup", "question") or "setup" in words:
            return setup
        if words[-1] in ("punchline", "answer", "response") or "punchline" in words:
            return punchline
        if "joke" in words:
            return f"{setup} {punchline}"
    value: str | None = None
    if _is(words, ID_FIELDS):
        # What a model passes for an id: the code in the prompt, else the distinctive word of a name.
        value = _first(_IDENTIFIER.findall(prompt.text)) or _first(
            [noun.split()[-1] for noun in prompt.proper if " " in noun]
        )
    elif _is(words, PLACE_FIELDS):
        value = prompt.take(prompt.locations) or prompt.take(prompt.proper) or prompt.take(prompt.quoted)
    elif _is(words, NAME_FIELDS):
        value = prompt.take(prompt.quoted) or prompt.take(prompt.proper)
    elif _is(words, STYLE_FIELDS):
        value = prompt.take(prompt.proper) or prompt.take(prompt.quoted) or (prompt.topic or None)
    elif _is(words, QUERY_FIELDS) or _is(words, PROSE_FIELDS):
        value = prompt.text or None
    value = value or prompt.take(prompt.quoted) or prompt.take(prompt.locations) or prompt.take(prompt.proper)
    value = value or prompt.topic or prompt.text or (name.replace("_", " ") if name else "example")
    max_length = schema.get("maxLength")
    if isinstance(max_length, int) and max_length > 0:
        value = value[:max_length]
    return value


def _is(words: list[str], kinds: tuple[str, ...]) -> bool:
    return any(w in kinds for w in words)


def _first(items: list[str]) -> str | None:
    return items[0] if items else None
