"""The quick builder of per-chunk framework objects: exact while the fields match, model_construct otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from anyfast_core.construct import Builder


class Piece(BaseModel):
    text: str
    items: list[int] = Field(default_factory=list)


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")
    text: str = ""


class WithPrivate(BaseModel):
    text: str = ""
    _cache: int = PrivateAttr(default=0)


class WithPostInit(BaseModel):
    text: str = ""

    def model_post_init(self, context: Any, /) -> None:
        self.text = self.text.upper()


def _same(a: BaseModel, b: BaseModel) -> bool:
    return (vars(a), a.model_fields_set, a.__pydantic_extra__, a.__pydantic_private__) == (
        vars(b),
        b.model_fields_set,
        b.__pydantic_extra__,
        b.__pydantic_private__,
    )


@pytest.mark.parametrize("cls", [Piece, Open])
def test_quick_way_gives_what_model_construct_gives(cls: type[BaseModel]) -> None:
    example: dict[str, Any] = {"text": ""} if cls is Open else {"text": "", "items": []}
    build = Builder(cls, example, fields_set={"text"})
    assert build.fast
    values = {**example, "text": "Hi"}
    assert _same(build(dict(values)), cls.model_construct(_fields_set={"text"}, **values))
    assert build(dict(values)) == cls(**values)


def test_a_field_the_caller_does_not_know_gets_its_default() -> None:
    # As when a framework release adds a field: model_construct fills it.
    build = Builder(Piece, {"text": ""})
    assert not build.fast
    piece = build({"text": "Hi"})
    assert piece == Piece(text="Hi")
    assert piece.items == []


def test_a_field_the_framework_dropped_is_not_passed_on() -> None:
    build = Builder(Open, {"text": "", "gone": 1})
    assert not build.fast
    obj = build({"text": "Hi", "gone": 1})
    assert obj == Open(text="Hi")
    assert obj.__pydantic_extra__ == {}


@pytest.mark.parametrize("cls", [WithPrivate, WithPostInit])
def test_private_state_or_post_init_takes_model_construct(cls: type[BaseModel]) -> None:
    build = Builder(cls, {"text": ""})
    assert not build.fast
    assert _same(build({"text": "hi"}), cls.model_construct(_fields_set={"text"}, text="hi"))
