"""The base class of every block, and the helpers all kinds share."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

import keras
import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from .._base import dense_float32, without_pandas_output

if TYPE_CHECKING:
    from ..frozen import FrozenTransformer
    from ..sequences import SequencePadder

__all__ = ["Block", "float32_columns", "layer_name", "same_columns", "serving_name", "steps_of"]

#: Frames with at most this many rows are read through one NumPy array of the whole frame:
#: pandas' column selection costs about a millisecond whatever the number of rows (most of
#: a one-row prediction), a NumPy slice a few microseconds.
SMALL_FRAME_ROWS = 256


def same_columns(last: pd.Index | None, columns: pd.Index) -> bool:
    """Whether ``columns`` are the column index seen last (the same object, or equal labels
    in the same order): what the readers of a frame remember across calls, since pandas
    builds a new column index for every frame, even one row taken from another frame."""
    return last is not None and (last is columns or last.equals(columns))


def _positions(
    frame_columns: pd.Index,
    columns: pd.Index,
    lookup: list[tuple[pd.Index, np.ndarray] | None],
) -> np.ndarray:
    """``frame_columns.get_indexer(columns)``, reused while the frames' columns are equal."""
    last = lookup[0]
    if last is not None and same_columns(last[0], frame_columns):
        return last[1]
    positions = frame_columns.get_indexer(columns)
    lookup[0] = (frame_columns, positions)
    return positions


def float32_columns(
    frame: pd.DataFrame,
    columns: pd.Index,
    lookup: list[tuple[pd.Index, np.ndarray] | None] | None = None,
) -> np.ndarray:
    """``frame[columns]`` as a float32 array of shape ``(n_rows, len(columns))``.

    ``columns`` is a ``pandas.Index`` (built once by the caller); ``lookup``, a
    one-element list the caller keeps, remembers the positions of ``columns`` in the
    last frame's columns (pandas builds a new column index, and a new hash table, for
    every frame, even one row taken from another frame). Raises what
    ``DataFrame.to_numpy(dtype=np.float32)`` raises for values that are not
    numbers (``ValueError``/``TypeError``), and ``KeyError`` for a missing column.
    Frames of up to :data:`SMALL_FRAME_ROWS` rows whose selected columns all have
    NumPy or nullable numeric/boolean dtypes are read through ``frame.to_numpy()``
    and a NumPy take (the same float32 values); any other frame through pandas.
    """
    if len(frame) <= SMALL_FRAME_ROWS and not frame.columns.has_duplicates:
        positions = _positions(frame.columns, columns, [None] if lookup is None else lookup)
        if positions.size and positions.min() >= 0:
            values = frame.to_numpy()
            if values.dtype.kind in "biuf" or all(
                dtype.kind in "biuf" for dtype in frame.dtypes.to_numpy()[positions]
            ):
                return np.asarray(values[:, positions], dtype=np.float32)
    return frame[columns].to_numpy(dtype=np.float32)


def layer_name(name: object) -> str:
    """``name`` as a Keras layer name: characters other than letters, digits, ``_`` become ``_``."""
    return re.sub(r"[^0-9a-zA-Z_]", "_", str(name))


def serving_name(column: Hashable) -> str:
    """The served model's input name for ``column``: characters other than letters,
    digits, ``_``, ``.`` and ``-`` become ``_`` (TensorFlow's rule for tensor names)."""
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", str(column))
    return name if re.match(r"[A-Za-z0-9.]", name) else f"x{name}"


def steps_of(transformer: Any) -> list[Any]:
    """The steps of a fitted transformer: a ``Pipeline``'s, else the transformer alone."""
    return (
        [step for _, step in transformer.steps]
        if isinstance(transformer, Pipeline)
        else [transformer]
    )


class Block:
    """One block of a fitted features step: the columns one fitted transformer turns
    into the slice ``[start, stop)`` of the final network's input.

    A subclass per kind (registered with :func:`~skchain.blocks.register_block`)
    owns everything about its kind: how it is recognised in a fitted
    features step (:meth:`matches`), its fitted constants, its entry into the
    compiled graph (:meth:`entry`, :meth:`scaling_layers`, :meth:`features`),
    its served inputs, its branch of the final network (:meth:`plan_branch`,
    :meth:`branch`), its part in fine-tuning (``network``) and in the plots
    (:meth:`histories`). This base class is also the default: a block computed
    by its own fitted transformer, entering the final network through a
    Dense branch.

    Parameters
    ----------
    name : str
        The transformer's name in the features step.
    columns : list of str
        The raw columns it reads.
    transformer : object
        The fitted transformer.
    start, stop : int
        Its slice of the features step's output (``output_indices_``).
    """

    #: The name the registry knows the kind by (``block_kinds_`` of the final network).
    kind: ClassVar[str] = "block"
    #: How ``make_chain(categorical_encoding=...)`` calls a categorical kind's encoding.
    encoding: ClassVar[str | None] = None
    #: A final stage fitted outside a chain recognises the kind by this column-name prefix.
    standalone_prefix: ClassVar[str | None] = None
    #: The frozen network A (a ``FrozenTransformer``) of a representation block, else None.
    network: FrozenTransformer | None = None
    #: The fitted ``SequencePadder`` before the block's network or encoder, else None.
    padder: SequencePadder | None = None

    def __init__(
        self, name: str, columns: Iterable[str], transformer: Any, start: int, stop: int
    ) -> None:
        self.name = name
        self.columns: list[str] = list(columns)
        self.transformer = transformer
        self.start, self.stop = int(start), int(stop)
        self.why_not_served: str | None = None
        self._plain: Any = None
        # For float32_rows: the Index of ``columns`` (rebuilt when a kind's
        # read_constants assigns a new list) and the last frame's positions.
        self._columns_index: tuple[list[str], pd.Index] | None = None
        self._columns_lookup: list[tuple[pd.Index, np.ndarray] | None] = [None]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.name!r}, columns={self.columns}, "
            f"slice=[{self.start}, {self.stop}))"
        )

    @property
    def width(self) -> int:
        """Number of the final network's input columns the block makes."""
        return self.stop - self.start

    @classmethod
    def matches(cls, steps: Sequence[Any]) -> bool:
        """Whether a fitted transformer, as its list of steps, makes a block of this kind."""
        return True

    @classmethod
    def from_fitted(
        cls, name: str, transformer: Any, columns: Iterable[str], start: int, stop: int
    ) -> Self:
        """The block of one fitted transformer that :meth:`matches` this kind."""
        block = cls(name, columns, transformer, start, stop)
        block.read_constants(steps_of(transformer))
        return block

    def read_constants(self, steps: Sequence[Any]) -> None:
        """Read the fitted constants the block needs off the fitted steps."""
        self.why_not_served = (
            f"block {self.name!r}: {type(self.transformer).__name__} has no served form; the"
            " served model takes network A, StandardScaler (after SimpleImputer), the"
            " 'onehot'/'embed' encoders and SequencePadder"
        )

    # ------------------------------------------------------------ the compiled graph
    @property
    def in_graph(self) -> bool:
        """Whether the graph computes the block from its raw columns (else from the
        transformer's output)."""
        return False

    @property
    def entry_width(self) -> int:
        """Width of the rows :meth:`entry` returns."""
        return self.width

    @property
    def fused_width(self) -> int:
        """Width of what the compiled predict feeds its graph for this block."""
        return self.entry_width

    def float32_rows(self, frame: pd.DataFrame) -> np.ndarray:
        """The block's raw columns of ``frame`` as float32 (:func:`float32_columns`)."""
        built = self._columns_index
        if built is None or built[0] is not self.columns:
            built = self._columns_index = (self.columns, pd.Index(self.columns))
            self._columns_lookup = [None]
        return float32_columns(frame, built[1], self._columns_lookup)

    def entry(self, frame: pd.DataFrame) -> np.ndarray:
        """The float32 rows this block feeds the graph, for a DataFrame.

        Raises ``ValueError``/``TypeError`` for values the graph does not take
        (the caller then goes step by step). Here: the fitted transformer's
        output.
        """
        if self._plain is None:
            self._plain = without_pandas_output(self.transformer)
        return dense_float32(self._plain.transform(frame[self.columns]))

    def scaling_layers(self) -> list[keras.layers.Layer]:
        """The Keras layers that turn the block's entry into its input of the final
        network (or of network A): imputing and scaling, in order."""
        return []

    def network_a(self) -> keras.Model | None:
        """Network A up to the chain's output layer, as a Keras model; None without one."""
        return None

    def features(
        self,
        x: Any,
        layers: Sequence[keras.layers.Layer],
        network: keras.Model | None = None,
        from_rows: bool = True,
    ) -> Any:
        """The block's features (its slice of the final network's input) from its entry.

        Parameters
        ----------
        x : tensor
            What :meth:`entry` (or :meth:`serving_entry`) gives.
        layers : list of keras.layers.Layer
            The block's :meth:`scaling_layers`, built once by the graph.
        network : keras.Model, default=None
            Network A (a representation block).
        from_rows : bool, default=True
            False when ``x`` already is network A's output (its cache).
        """
        if self.in_graph:
            for layer in layers:
                x = layer(x)
        return x

    # ------------------------------------------------------------ the served model
    def serving_inputs(self) -> list[tuple[str, Hashable, tuple[int, ...], str]]:
        """``[(input name, column, shape, dtype)]`` of this block's served inputs."""
        if self.why_not_served:
            raise ValueError(self.why_not_served)
        return [(serving_name(c), c, (1,), "float32") for c in self.columns]

    def serving_entry(self, inputs: Mapping[str, Any]) -> Any:
        """The block's entry (see :meth:`entry`) from the served inputs (Keras tensors)."""
        parts = [inputs[name] for name, _, _, _ in self.serving_inputs()]
        return parts[0] if len(parts) == 1 else keras.ops.concatenate(parts, axis=1)

    def serving_values(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """``{input name: ndarray}`` for the served model, from a DataFrame."""
        return {
            name: frame[[column]].to_numpy(dtype=np.float32).reshape(-1, 1)
            for name, column, _, _ in self.serving_inputs()
        }

    # ------------------------------------------------------------ the final network
    @classmethod
    def plan_branch(
        cls,
        estimator: Any,
        X: np.ndarray,
        name: str,
        start: int,
        stop: int,
        names: Any,
        integer_columns: Collection[str],
        stage: str,
    ) -> dict[str, dict[str, Any]]:
        """What the final network's branch of such a block needs to know from the training rows.

        Returns
        -------
        dict
            ``{fitted attribute of the final network: {key: value}}`` to merge
            into it (``embedding_sizes_``, ``sequence_blocks_``); empty here.
        """
        return {}

    @classmethod
    def branch(
        cls,
        estimator: Any,
        name: str,
        inputs: Any,
        start: int,
        stop: int,
        seed: Callable[[], int | None],
        dense: Callable[..., Any],
    ) -> Any:
        """The final network's branch for such a block: a Dense layer of ``branch_units``
        (none when ``branch_units`` is None).

        Parameters
        ----------
        estimator : ChainRegressor or ChainClassifier
            The final stage being built (its parameters and planned sizes).
        name : str
            The block's name.
        inputs : keras tensor
            The block's input of the final network.
        start, stop : int
            Its slice of the final network's input columns.
        seed : callable
            Returns the next seed of the network's initializers.
        dense : callable
            ``dense(width, name, activation)``: a seeded Dense layer.
        """
        if estimator.branch_units is None:
            return inputs
        return dense(estimator.branch_units, f"{layer_name(name)}_branch", estimator.activation)(
            inputs
        )

    def embedding_tables(self, tables: Mapping[str, np.ndarray]) -> dict[str, pd.DataFrame]:
        """``{column: DataFrame}`` of the learned embeddings of this block's columns, with
        level labels, from the final network's ``{feature: table}``; empty here."""
        return {}

    # ------------------------------------------------------------ plots
    def histories(self) -> list[tuple[str, dict[str, list[float]]]]:
        """``[(title, history dict)]`` of the networks inside the block, for the plots."""
        return []
