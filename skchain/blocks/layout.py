"""The layout of a fitted features step: its blocks, in output order, with their slices."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Self, cast

from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from .registry import block_for, registered_blocks

if TYPE_CHECKING:
    from ._base import Block
    from .representation import RepresentationBlock

#: ``(name, start, stop)``: a block's slice of the final network's input columns.
_Slice = tuple[str, int, int]

__all__ = ["Layout", "fitted_transformers", "input_blocks", "plan_state", "replace_network"]


def fitted_transformers(features: Any) -> list[tuple[str, Any, Any]]:
    """``[(name, fitted transformer, columns)]`` of a fitted ``ColumnTransformer``,
    without dropped or empty ones."""
    return [
        (name, transformer, columns)
        for name, transformer, columns in getattr(features, "transformers_", [])
        if not (isinstance(transformer, str) and transformer == "drop") and len(columns)
    ]


class Layout:
    """The blocks of one fitted features step, in output order.

    Made once per fit of a chain (:meth:`of`) and handed, as an argument, to
    the final network's ``fit``, the compiled predict, fine-tuning and the
    export; each :class:`~skchain.blocks.Block` holds its slice of the
    features step's output (scikit-learn's ``output_indices_``).

    Parameters
    ----------
    blocks : list of Block
        In output order.
    state : tuple, default=None
        :func:`plan_state` of the features step it was read from.
    """

    def __init__(self, blocks: Iterable[Block], state: tuple[Any, ...] | None = None) -> None:
        self.blocks = list(blocks)
        self.state = state

    @classmethod
    def of(cls, features: ColumnTransformer) -> Self:
        """The layout of a fitted features step.

        Parameters
        ----------
        features : ColumnTransformer
            Fitted, with every block's columns given by name.

        Returns
        -------
        Layout

        Raises
        ------
        TypeError
            When ``features`` is not a fitted ``ColumnTransformer`` of named
            columns (a chain's features step always is).
        """
        if not isinstance(features, ColumnTransformer) or not hasattr(features, "transformers_"):
            raise TypeError("the features step is not a fitted ColumnTransformer")
        blocks: list[Block] = []
        for name, transformer, columns in fitted_transformers(features):
            if isinstance(transformer, str) or not all(isinstance(c, str) for c in columns):
                raise TypeError(f"block {name!r}: passthrough or columns given by position")
            where = features.output_indices_[name]
            blocks.append(block_for(name, transformer, columns, where.start, where.stop))
        return cls(blocks, plan_state(features))

    def __iter__(self) -> Iterator[Block]:
        return iter(self.blocks)

    def __len__(self) -> int:
        return len(self.blocks)

    def __getitem__(self, i: int) -> Block:
        return self.blocks[i]

    def __repr__(self) -> str:
        return f"Layout({self.blocks!r})"

    @property
    def width(self) -> int:
        """Number of columns of the features step's output."""
        return max((block.stop for block in self.blocks), default=0)

    @property
    def columns(self) -> list[str]:
        """The raw columns the blocks read, block by block."""
        return [c for block in self.blocks for c in block.columns]

    def final_blocks(self) -> tuple[list[_Slice], dict[str, str]]:
        """``(input_blocks_, block_kinds_)`` of the final network: ``[(name, start, stop)]``
        and ``{name: kind}``."""
        return (
            [(block.name, block.start, block.stop) for block in self.blocks],
            {block.name: block.kind for block in self.blocks},
        )

    def encodings(self) -> dict[str, str]:
        """``{column: encoding}`` of the categorical blocks (onehot, embed or hash)."""
        return {
            column: block.encoding
            for block in self.blocks
            if block.encoding
            for column in block.columns
        }

    def representations(self) -> list[tuple[int, RepresentationBlock]]:
        """The blocks with a frozen network A, with their positions: ``[(i, block)]``."""
        # Only representation blocks (and their subclasses) carry a network A.
        return [
            (i, cast("RepresentationBlock", block))
            for i, block in enumerate(self.blocks)
            if block.network is not None
        ]


def input_blocks(feature_names: Collection[Any] | None, n_features: int) -> list[_Slice]:
    """Split columns into blocks by their ``"<block>__"`` name prefix.

    Only for a final stage fitted outside a chain (in a hand-built
    ``Pipeline``): ``ColumnTransformer`` names its output columns
    ``"<transformer>__<feature>"``; consecutive columns with the same prefix
    form one block. Without such names, all columns form one block called
    ``"features"``.

    Returns
    -------
    list of (name, start, stop)

    Examples
    --------
    >>> from skchain.blocks import input_blocks
    >>> input_blocks(["representation__e0", "representation__e1", "numeric__age"], 3)
    [('representation', 0, 2), ('numeric', 2, 3)]
    """
    if feature_names is None or not all("__" in str(n) for n in feature_names):
        return [("features", 0, n_features)]
    blocks: list[_Slice] = []
    for i, name in enumerate(feature_names):
        prefix = str(name).split("__", 1)[0]
        if blocks and blocks[-1][0] == prefix and blocks[-1][2] == i:
            blocks[-1] = (prefix, blocks[-1][1], i + 1)
        else:
            blocks.append((prefix, i, i + 1))
    seen: dict[str, int] = {}
    unique: list[_Slice] = []
    for name, start, stop in blocks:
        seen[name] = seen.get(name, 0) + 1
        unique.append((name if seen[name] == 1 else f"{name}{seen[name]}", start, stop))
    return unique


def blocks_from_names(
    feature_names: Collection[Any] | None, n_features: int
) -> tuple[list[_Slice], dict[str, str]]:
    """``(input_blocks_, block_kinds_)`` read from the pandas column names: the one place
    where a final stage fitted outside a chain recognises kinds by their
    ``standalone_prefix`` (inside a chain, the layout tells)."""
    blocks = input_blocks(feature_names, n_features)
    prefixes = [
        (cls.standalone_prefix, cls.kind) for cls in registered_blocks() if cls.standalone_prefix
    ]
    kinds: dict[str, str] = {}
    for name, _, _ in blocks:
        kind = next((kind for prefix, kind in prefixes if name.startswith(prefix)), None)
        if kind is not None:
            kinds[name] = kind
    return blocks, kinds


def replace_network(features: Any, block: Block, step: Any) -> None:
    """Put ``step`` (a fitted ``FrozenTransformer``) in place of ``block``'s network A.

    The fitted features step gets a new ``transformers_`` list (not an edit in
    place: a chain whose fit fails restores the old list).
    """
    fitted = list(features.transformers_)
    for i, (name, transformer, columns) in enumerate(fitted):
        if name == block.name:
            if isinstance(transformer, Pipeline):
                transformer = Pipeline([*transformer.steps[:-1], (transformer.steps[-1][0], step)])
            else:
                transformer = step
            fitted[i] = (name, transformer, columns)
    features.transformers_ = fitted


def plan_state(features: Any) -> tuple[int, tuple[tuple[int, Any, int, Any], ...]]:
    """A key that changes whenever the fitted blocks do (refit, ``set_params``, fine-tuning,
    and network A refitted in place or announced changed: its ``fit_token``)."""
    from ._base import steps_of

    return (
        id(getattr(features, "transformers_", None)),
        tuple(
            (
                id(t),
                getattr(last, "output_layer", None),
                id(network_a),
                getattr(network_a, "fit_token", None),
            )
            for _, t, _ in getattr(features, "transformers_", [])
            for last in [steps_of(t)[-1] if not isinstance(t, str) else t]
            for network_a in [getattr(last, "estimator", None)]
        ),
    )
