"""Building the pydantic objects the adapters yield for every streamed chunk, at the cost of the values alone.

``model_construct`` skips validation but still resolves every field's aliases and default on each
call, which costs more than the rest of a chunk's way through the core; a stream builds one or more
framework objects per chunk. A :class:`Builder` does what ``model_construct`` does when given a value
for every field, and checks once, when it is made, that the result is exactly what
``model_construct`` gives. When a framework release adds, renames or drops a field, or pydantic
stores models differently, that check fails and every call goes through ``model_construct``.

>>> from pydantic import BaseModel
>>> class Piece(BaseModel):
...     text: str
...     final: bool = False
>>> build = Builder(Piece, {"text": "", "final": False}, fields_set={"text"})
>>> build.fast, build({"text": "Hi", "final": False})
(True, Piece(text='Hi', final=False))
>>> Builder(Piece, {"text": ""}).fast  # a field the caller does not know of: model_construct fills it
False
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

_M = TypeVar("_M", bound=BaseModel)

# What pydantic stores per instance; model_construct sets exactly these.
_SLOTS = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
_new = object.__new__
_set = object.__setattr__


class Builder(Generic[_M]):
    """Builds ``cls`` instances, unvalidated, from a dict naming every field.

    Args:
        cls: The pydantic model class.
        example: A value for every field the caller will pass, as it passes them; used to check,
            once, that the quick way and ``model_construct`` build the same object.
        fields_set: The fields reported as set (``model_fields_set``), as a validated construction
            with the same arguments would report them; default: every field passed.

    Calling the builder with ``values`` gives ``cls.model_construct(**values)`` with ``fields_set``;
    the dict becomes the object's field storage, so pass a new one each time.
    """

    __slots__ = ("_extra_allowed", "_fields_set", "_known", "cls", "fast")

    def __init__(self, cls: type[_M], example: Mapping[str, Any], fields_set: Iterable[str] | None = None) -> None:
        self.cls = cls
        self._fields_set = frozenset(example if fields_set is None else fields_set)
        self._known = frozenset(cls.model_fields)
        self._extra_allowed = cls.model_config.get("extra") == "allow"
        self.fast = self._quick_way_is_exact(example)
        """Whether calls take the quick way (else ``model_construct``)."""

    def __call__(self, values: dict[str, Any]) -> _M:
        if self.fast:
            obj = _new(self.cls)
            _set(obj, "__dict__", values)
            _set(obj, "__pydantic_fields_set__", set(self._fields_set))
            _set(obj, "__pydantic_extra__", {} if self._extra_allowed else None)
            _set(obj, "__pydantic_private__", None)
            return obj
        return self._constructed(values)

    def _constructed(self, values: Mapping[str, Any]) -> _M:
        known = {name: value for name, value in values.items() if name in self._known}
        return self.cls.model_construct(_fields_set=set(self._fields_set & self._known), **known)

    def _quick_way_is_exact(self, example: Mapping[str, Any]) -> bool:
        cls = self.cls
        if (
            BaseModel.__slots__ != _SLOTS
            or set(example) != self._known
            or not self._fields_set <= self._known
            or cls.__pydantic_root_model__
            or cls.__pydantic_post_init__
            or cls.__private_attributes__
        ):
            return False
        self.fast = True
        quick = self(dict(example))
        slow = self._constructed(example)
        self.fast = False
        return type(quick) is type(slow) and all(getattr(quick, slot) == getattr(slow, slot) for slot in _SLOTS)
