"""The registry of block kinds: a new kind is one :class:`~skchain.blocks.Block` subclass."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, overload

from ._base import Block

__all__ = [
    "block_class",
    "block_for",
    "block_names_by_encoding",
    "register_block",
    "registered_blocks",
    "unregister_block",
]

# Kinds tried in order on a fitted transformer (the first whose ``matches`` says
# yes makes the block); the fallback takes what none of them claims.
_ORDER: list[type[Block]] = []
_BY_KIND: dict[str, type[Block]] = {}
_FALLBACK: list[type[Block]] = [Block]

_B = TypeVar("_B", bound=type[Block])


@overload
def register_block(cls: _B, *, fallback: bool = False) -> _B: ...


@overload
def register_block(cls: None = None, *, fallback: bool = False) -> Callable[[_B], _B]: ...


def register_block(cls: _B | None = None, *, fallback: bool = False) -> _B | Callable[[_B], _B]:
    """Register a :class:`Block` subclass (usable as a class decorator).

    Kinds are tried in registration order on each fitted transformer of a
    features step; a ``fallback`` kind takes the transformers no registered
    kind claims.

    Parameters
    ----------
    cls : type
        A subclass of :class:`Block` with its own ``kind``.
    fallback : bool, default=False
        Make it the kind of unclaimed transformers.

    Returns
    -------
    type
        ``cls``.
    """

    def register(cls: _B) -> _B:
        if not (isinstance(cls, type) and issubclass(cls, Block)):
            raise TypeError(f"register_block: expected a Block subclass; got {cls!r}")
        if cls.kind in _BY_KIND and _BY_KIND[cls.kind] is not cls:
            raise ValueError(
                f"register_block: the kind {cls.kind!r} is taken by {_BY_KIND[cls.kind].__name__}"
            )
        _BY_KIND[cls.kind] = cls
        if fallback:
            _FALLBACK[0] = cls
        elif cls not in _ORDER:
            _ORDER.append(cls)
        return cls

    return register if cls is None else register(cls)


def unregister_block(kind: str) -> None:
    """Forget the class registered for ``kind`` (a kind registered for a while, as in a test).

    Parameters
    ----------
    kind : str

    Raises
    ------
    KeyError
        When no class is registered for ``kind``.
    """
    cls = _BY_KIND.pop(kind)
    if cls in _ORDER:
        _ORDER.remove(cls)


def registered_blocks() -> list[type[Block]]:
    """The registered kinds, in the order they are tried, then the fallback."""
    return [*_ORDER, _FALLBACK[0]]


def block_class(kind: str | None) -> type[Block]:
    """The class registered for ``kind``; the plain :class:`Block` for None or an unknown one."""
    return Block if kind is None else _BY_KIND.get(kind, Block)


def block_for(name: str, transformer: Any, columns: Sequence[Any], start: int, stop: int) -> Block:
    """The block of one fitted transformer of a features step."""
    from ._base import steps_of

    steps = steps_of(transformer)
    cls = next((cls for cls in _ORDER if cls.matches(steps)), _FALLBACK[0])
    return cls.from_fitted(name, transformer, columns, start, stop)


def block_names_by_encoding() -> dict[str, str]:
    """``{encoding: block name}``: the block ``make_chain`` makes for each categorical encoding
    (the registered kinds that have an ``encoding``)."""
    return {cls.encoding: cls.kind for cls in registered_blocks() if cls.encoding}
