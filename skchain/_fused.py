"""One compiled graph for a fitted chain's predict.

``Pipeline.predict`` on a chain runs scikit-learn's column dispatch, builds a
pandas frame of every block, validates it again in the regressor and calls
two networks one after the other. :class:`FusedPredictor` reads each block of
the chain's layout straight from the frame as float32 (``Block.entry``), takes
network A's outputs from the frozen step (its cache, or computed in the
graph), and runs the numeric imputers and scalers and the final network as
one traced ``tf.function`` built by :class:`~skchain._graph.ChainGraph` (the
code that builds the served model); "onehot" and "embed" blocks enter through
the fitted encoders' level tables (the served model's lookups, in NumPy),
other blocks as their fitted transformers write them.
When a network A's outputs for the rows are not cached yet (the usual case
for new rows), every network A, each with its standard scaler folded in,
runs inside the same traced graph, which returns their outputs (kept in the
frozen steps' caches) next to the predictions: one call, as fast as a
hand-fused Keras graph. When every network A's outputs are cached only the
final part runs. Both graphs are made of the
same operations, so predictions do not depend on what was cached: a chain
reloaded in a new process predicts bit for bit the same (tested). Results
equal the step-by-step path to float32 rounding.

Anything it does not handle raises :class:`Unsupported` while it is built or
:class:`FallBack` while it predicts, and the caller then uses the ordinary
``Pipeline.predict``, which also gives the ordinary, named error messages.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.utils.validation import check_is_fitted

from ._graph import ChainGraph
from ._inference import DEFAULT_CHUNK_ROWS
from ._network import BlockNetworkMixin
from .blocks import plan_state
from .blocks._base import same_columns

if TYPE_CHECKING:
    from .blocks import Layout

__all__ = ["FallBack", "FusedPredictor", "Unsupported", "forget_predictor", "predictor_for"]

# Rows per call of the graph: bounds the memory of the float32 copies of a
# large frame to a few chunks' worth. The chunks of network A's own compiled call:
# float32 results can change in the last bits with the chunk size (oneDNN blocks a
# product by its rows), and network A's outputs computed here are cached for transform.
CHUNK_ROWS = DEFAULT_CHUNK_ROWS


# TensorFlow's kernels assume 64-byte aligned buffers (Eigen's widest
# vectors); only such arrays are handed over without a copy.
_ALIGNMENT = 64


# Copies of at least this many values are split between two threads: pandas hands out
# column-major arrays, and turning them into rows is a transposition that one core does
# at about half the speed two do (NumPy releases the GIL while it copies).
PARALLEL_COPY_VALUES = 1 << 20


def _copy_threads() -> int:
    """Threads for one large copy: two where the process may run on two CPUs."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return 2 if cpus >= 2 else 1


def _aligned_copy(values: np.ndarray) -> np.ndarray:
    """A C-contiguous, 64-byte aligned float32 copy of ``values`` (one pass; in two
    threads, by halves of the rows, when it is large)."""
    nbytes = values.size * 4
    raw = np.empty(nbytes + _ALIGNMENT, dtype=np.uint8)
    offset = (-raw.ctypes.data) % _ALIGNMENT
    out = raw[offset : offset + nbytes].view(np.float32).reshape(values.shape)
    if values.size < PARALLEL_COPY_VALUES or values.ndim != 2 or _copy_threads() < 2:
        np.copyto(out, values)
        return out
    half = values.shape[0] // 2
    failed: list[BaseException] = []

    def copy_second_half() -> None:
        try:
            np.copyto(out[half:], values[half:])
        except BaseException as exc:  # re-raised in the calling thread
            failed.append(exc)

    helper = threading.Thread(target=copy_second_half, name="skchain-copy")
    helper.start()
    try:
        np.copyto(out[:half], values[:half])
    finally:
        helper.join()
    if failed:
        raise failed[0]
    return out


def _row_major(values: np.ndarray) -> np.ndarray:
    """``values`` as C-contiguous float32: as they are when they already are (the
    encoders' outputs), else one aligned copy (pandas hands out column-major
    arrays; the graph reads rows)."""
    if values.flags.c_contiguous and values.dtype == np.float32:
        return values
    return _aligned_copy(values)


def _as_tensor(x: Any) -> tf.Tensor:
    """``x`` as a tensor; without a copy when it is an aligned, writable C array."""
    if (
        isinstance(x, np.ndarray)
        and x.size
        and x.flags.c_contiguous
        and x.flags.writeable
        and x.dtype == np.float32
        and x.ctypes.data % _ALIGNMENT == 0
    ):
        return tf.experimental.dlpack.from_dlpack(x.__dlpack__())
    return tf.convert_to_tensor(x, dtype=tf.float32)


class Unsupported(Exception):
    """The pipeline's shape has no fused form."""


class FallBack(Exception):
    """This input needs the step-by-step path (usually to get its error message)."""


class FusedPredictor:
    """Predict with a fitted chain: network A's outputs, then one traced graph.

    Built from the layout by :class:`~skchain._graph.ChainGraph`, the same
    code that builds the served model; it enters the graph after the
    categorical encoders (their level tables run on the frame, in NumPy).

    Parameters
    ----------
    layout : Layout
        The blocks of the chain's fitted features step (:class:`skchain.blocks.Layout`).
    final : ChainRegressor or ChainClassifier
        The chain's fitted final stage.

    Raises
    ------
    Unsupported
        When the pipeline has no fused form; use ``Pipeline.predict``.
    """

    def __init__(self, layout: Layout, final: Any) -> None:
        if not isinstance(final, BlockNetworkMixin):
            raise Unsupported("not followed by a ChainRegressor or ChainClassifier")
        try:
            graph = ChainGraph(layout, final)
        except (TypeError, ValueError) as exc:
            raise Unsupported(str(exc)) from None
        self.layout = layout
        self.columns = layout.columns
        self._columns_seen: pd.Index | None = None

        def forward(*entries: Any) -> Any:
            # Network A's outputs come in (from its cache, or computed).
            return graph.outputs(
                [graph.features(i, x, from_rows=False) for i, x in enumerate(entries)]
            )

        # Concrete functions, each traced on its first use (a fresh process's first
        # prediction, its cache empty, needs only the one with networks A): calling one
        # skips tf.function's per-call dispatch on its arguments (a sizeable part of a
        # one-row prediction).
        specs = [tf.TensorSpec((None, block.fused_width), tf.float32) for block in layout]
        self._to_trace: dict[str, tuple[Callable[..., Any], list[tf.TensorSpec]]] = {
            "from_representations": (forward, list(specs))
        }
        self._traced: dict[str, Any] = {}
        self._tracing = threading.Lock()
        self._networks_a = [i for i, _ in layout.representations()]
        self._in_graph = bool(self._networks_a) and all(
            layout[i].in_graph for i in self._networks_a
        )
        if self._in_graph:
            index = self._networks_a

            def forward_with_networks_a(*entries: Any) -> tuple[list[Any], Any]:
                features = [graph.features(i, x) for i, x in enumerate(entries)]
                return [features[i] for i in index], graph.outputs(features)

            for i in index:
                specs[i] = tf.TensorSpec((None, layout[i].entry_width), tf.float32)
            self._to_trace["with_networks_a"] = (forward_with_networks_a, specs)

    def _concrete(self, name: str) -> Any:
        """The concrete function ``name``, traced on first use (once, under a lock).

        Raises
        ------
        FallBack
            When it cannot be traced (remembered: the step-by-step path then
            serves every call).
        """
        function = self._traced.get(name)
        if function is None:
            with self._tracing:
                if name not in self._traced:
                    python_function, specs = self._to_trace[name]
                    try:
                        self._traced[name] = tf.function(
                            python_function, input_signature=specs, autograph=False
                        ).get_concrete_function()
                    except (TypeError, ValueError):
                        self._traced[name] = False
                function = self._traced[name]
        if function is False:
            raise FallBack
        return function

    def outputs(self, frame: Any) -> np.ndarray:
        """The final network's raw outputs for a DataFrame (the final stage turns them
        into predictions, probabilities or labels).

        Raises
        ------
        FallBack
            When the frame needs the step-by-step path (missing or
            non-numeric columns, missing values, no rows...).
        """
        if not isinstance(frame, pd.DataFrame) or len(frame) == 0:
            raise FallBack
        if not self._reads(frame.columns):
            raise FallBack
        n_rows = len(frame)
        if n_rows <= CHUNK_ROWS:
            return self._predict_chunk(frame)
        out: np.ndarray | None = None
        for start in range(0, n_rows, CHUNK_ROWS):
            part = self._predict_chunk(frame.iloc[start : start + CHUNK_ROWS])
            if out is None:
                out = np.empty((n_rows, *part.shape[1:]), dtype=np.float32)
            out[start : start + len(part)] = part
        assert out is not None  # n_rows > CHUNK_ROWS: the loop ran
        return out

    def _reads(self, columns: pd.Index) -> bool:
        """Whether a frame with these columns has every column the chain reads, once each.
        Remembered for the last columns that passed (a ``set`` of a pandas index of
        strings costs most of a millisecond; ``Index.equals`` microseconds)."""
        if same_columns(self._columns_seen, columns):
            return True
        if columns.has_duplicates or not set(self.columns) <= set(columns):
            return False
        self._columns_seen = columns
        return True

    def _predict_chunk(self, frame: pd.DataFrame) -> np.ndarray:
        try:
            arrays = [_row_major(block.entry(frame)) for block in self.layout]
        except (TypeError, ValueError):
            raise FallBack from None
        tensors = [_as_tensor(a) for a in arrays]
        computed: dict[int | str, Any] = {}

        def in_graph(i: int) -> Callable[[Any, Any], Any]:
            def compute(rows: Any, layer_name: Any) -> Any:
                # The first network A whose outputs are not cached runs the whole
                # graph (every network A and the final network) once.
                if not computed:
                    representations, predictions = self._concrete("with_networks_a")(*tensors)
                    computed.update(
                        zip(self._networks_a, map(np.asarray, representations), strict=False)
                    )
                    computed["predictions"] = predictions
                return computed[i]

            return compute

        representations = {
            # Each frozen step's own cache and shift check; on a miss every
            # network A runs inside the same graph as the final network.
            i: block.cached_outputs(arrays[i], in_graph(i) if self._in_graph else None)
            for i, block in self.layout.representations()
        }
        if computed:
            return np.asarray(computed["predictions"], dtype=np.float32)
        for i, representation in representations.items():
            tensors[i] = _as_tensor(representation)
        return np.asarray(self._concrete("from_representations")(*tensors), dtype=np.float32)


# The fused predictor of each fitted chain, with the state it was built from;
# outside the chains so that it never reaches a pickle or a clone.
_predictors: weakref.WeakKeyDictionary[Any, tuple[Any, FusedPredictor | None]] = (
    weakref.WeakKeyDictionary()
)


def predictor_for(
    chain: Any, steps: Sequence[tuple[str, Any]], layout: Callable[[], Layout]
) -> FusedPredictor | None:
    """The fused predictor of ``chain`` (a pipeline of ``steps``: features, final stage) for
    its current fitted state, built on first use; None when it has none.

    ``layout()`` gives the fitted features step's layout (called only to build one).
    """
    if len(steps) != 2:
        return None
    features, final = steps[0][1], steps[1][1]
    try:
        check_is_fitted(final)
        state = (plan_state(features), getattr(final, "fit_token", None))
    except Exception:
        return None
    remembered = _predictors.get(chain)
    if remembered is not None and remembered[0] == state:
        return remembered[1]
    try:
        predictor: FusedPredictor | None = FusedPredictor(layout(), final)
    except (TypeError, Unsupported):
        predictor = None
    _predictors[chain] = (state, predictor)
    return predictor


def forget_predictor(chain: Any) -> None:
    """Drop ``chain``'s fused predictor (after a fit: the next prediction builds a new one)."""
    _predictors.pop(chain, None)
