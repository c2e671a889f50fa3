"""make_chain's checks of its networks A: each one frozen, named and adapted as asked.

``_networks_a`` reads ``preprocessor`` (one network A) or ``representations``
(several, by name) into ``(block name, FrozenTransformer, columns or None,
padder or None)`` entries, a ``KerasTransformer`` wrapped in a
``FrozenTransformer`` (``_frozen``); ``_adapted`` sets each one's ``adapt``
(one value, or one per name) after checking it suits that network;
``_check_block_names`` refuses a network A's name that another block of the
chain already has. :func:`skchain.factory.make_chain` assembles the chain
from them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sklearn.base import clone

from ._own_columns import ENCODER_NAMES
from .adaptation import ADAPT_METHODS, batch_norm_layers
from .frozen import FrozenTransformer
from .preprocessor import KerasTransformer
from .sequences import SequencePadder

#: Block names make_chain gives B's own columns, and ColumnTransformer's own parameters;
#: a network A may not take them.
_RESERVED = (
    *ENCODER_NAMES.values(),
    "numeric",
    "remainder",
    "transformers",
    "sparse_threshold",
    "n_jobs",
    "transformer_weights",
    "verbose",
    "verbose_feature_names_out",
    "force_int_remainder_cols",
)

#: One network A of a chain: (block name, frozen step, columns or None, padder or None).
_NetworkA = tuple[str, FrozenTransformer, Any, SequencePadder | None]


def _frozen(preprocessor: object, where: str) -> FrozenTransformer:
    """``preprocessor`` as a ``FrozenTransformer`` (a ``KerasTransformer`` is wrapped)."""
    if isinstance(preprocessor, KerasTransformer):
        return FrozenTransformer(preprocessor)
    if not isinstance(preprocessor, FrozenTransformer):
        raise TypeError(
            f"make_chain: {where} must be a fitted KerasTransformer or a"
            f" FrozenTransformer; got {type(preprocessor).__name__}"
        )
    return preprocessor


def _networks_a(
    preprocessor: KerasTransformer | FrozenTransformer | None,
    representations: Mapping[str, Any] | None,
    representation_columns: Any,
    representation_padder: SequencePadder | None,
) -> list[_NetworkA]:
    """``[(block name, FrozenTransformer, columns or None, padder or None)]``, one per network A."""
    if representations is None:
        if preprocessor is None:
            raise ValueError(
                "make_chain: pass network A as preprocessor (one network) or several as"
                " representations={name: (network A, columns)}"
            )
        frozen = _frozen(preprocessor, "preprocessor")
        return [("representation", frozen, representation_columns, representation_padder)]
    if preprocessor is not None:
        raise ValueError(
            "make_chain: pass preprocessor (one network A) or representations (several), not both"
        )
    if representation_columns is not None or representation_padder is not None:
        raise ValueError(
            "make_chain: with representations, give each network A's columns (and padder)"
            " in its entry: representations={name: (network A, columns[, padder])}"
        )
    if not isinstance(representations, Mapping) or not representations:
        raise TypeError(
            "make_chain: representations must be a non-empty dict {name: network A or"
            f" (network A, columns[, padder])}}; got {representations!r:.80}"
        )
    networks: list[_NetworkA] = []
    for name, entry in representations.items():
        where = f"representations[{name!r}]"
        if not isinstance(name, str) or not name or "__" in name:
            raise ValueError(
                f"make_chain: {where}: a network A's name must be a non-empty string without"
                " '__' (it names the block: features__<name>__output_layer)"
            )
        parts = tuple(entry) if isinstance(entry, (tuple, list)) else (entry,)
        if not 1 <= len(parts) <= 3:
            raise ValueError(
                f"make_chain: {where}: expected network A, (network A, columns) or"
                f" (network A, columns, padder); got a sequence of {len(parts)}"
            )
        network, columns, padder = (*parts, None, None)[:3]
        networks.append((name, _frozen(network, where), columns, padder))
    return networks


def _adapted(
    networks: Sequence[_NetworkA], adapt: str | Mapping[str, str | None] | None
) -> list[_NetworkA]:
    """``networks`` with ``adapt`` set on their frozen steps (one value, or one per name)."""
    names = [name for name, _, _, _ in networks]
    if isinstance(adapt, Mapping):
        unknown = [name for name in adapt if name not in names]
        if unknown:
            raise ValueError(
                f"make_chain: adapt names {unknown}, not networks A of the chain: {names}"
            )
        choices: dict[str, str | None] = dict(adapt)
    else:
        choices = {name: adapt for name in names} if adapt is not None else {}
    adapted: list[_NetworkA] = []
    for name, frozen, columns, padder in networks:
        if name in choices:
            choice = choices[name]
            if choice is not None and choice not in ADAPT_METHODS:
                raise ValueError(
                    f"make_chain: adapt={choice!r} for network A {name!r}; expected None or"
                    f" one of {list(ADAPT_METHODS)}"
                )
            model = getattr(frozen.estimator, "model_", None)
            if choice == "adabn" and model is not None and not batch_norm_layers(model):
                raise ValueError(
                    f"make_chain: adapt='adabn' for network A {name!r}, which has no"
                    " BatchNormalization layer; use 'standardize' or 'coral' for it"
                    " (adapt={name: ...} sets one network's)"
                )
            if padder is not None and choice in ("standardize", "coral"):
                raise ValueError(
                    f"make_chain: network A {name!r} reads padded sequences; adapt={choice!r}"
                    " aligns input features: use adapt='adabn' (BatchNormalization layers)"
                )
            frozen = clone(frozen).set_params(adapt=choice)
        adapted.append((name, frozen, columns, padder))
    return adapted


def _check_block_names(
    blocks: Sequence[tuple[str, Any, Any]], sequence_columns: Iterable[str]
) -> None:
    """Refuse a network A's name that another block already has."""
    names = [name for name, _, _ in blocks]
    taken = {*_RESERVED, *(f"sequence_{c}" for c in sequence_columns)}
    clash = sorted({n for n in names if n in taken or names.count(n) > 1})
    if clash:
        raise ValueError(
            f"make_chain: block name(s) {clash} taken; a network A may not be named"
            f" {list(_RESERVED)}, 'sequence_<column>' or another network's '<name>_inputs'"
        )
