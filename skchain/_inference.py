"""Fast inference for fitted Keras networks.

``keras.Model.predict`` builds a ``tf.data`` pipeline on every call (tens of
milliseconds before any work) and walks the rows in 32-row batches. A fitted
network inside a scikit-learn estimator is called many times on arrays that
are already in memory, so skchain calls it directly instead: one
``tf.function`` per network, traced once for a fixed float32 input signature,
fed in large chunks whose results are written into one preallocated output.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import tensorflow as tf
from numpy.typing import ArrayLike

from .layers import standardize

if TYPE_CHECKING:
    import keras

__all__ = ["CompiledForward", "call_scaled", "forward_in_chunks"]


class _OwnTracingFilter(logging.Filter):
    """Silence TensorFlow's "frequent retracing" warning for our functions only.

    Each fitted network gets its own function, traced once; TensorFlow counts
    all functions made from one closure together and would warn after a few
    fits (for example during a grid search), although nothing is retraced.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "CompiledForward" not in message and "FusedPredictor" not in message


tf.get_logger().addFilter(_OwnTracingFilter())


def call_scaled(
    model: keras.Model, x: Any, input_shift: Any = None, input_scale: Any = None
) -> Any:
    """``model((x - input_shift) / input_scale)`` in inference mode, inside a traced graph.

    The one expression of a network called with its standard scaler folded
    in: every graph that runs network A (its own compiled call, the chain's
    fused graph) uses it, so they compute the same bits.
    """
    if input_shift is not None:
        x = standardize(x, input_shift, input_scale)
    return model(x, training=False)


def forward_in_chunks(
    function: Callable[..., Any], inputs: Sequence[np.ndarray], chunk_rows: int
) -> np.ndarray | list[np.ndarray]:
    """``function(*inputs)`` on at most ``chunk_rows`` rows at a time, as float32 arrays.

    The one loop over row chunks of a forward pass: each chunk's outputs are
    written into one preallocated array per output (no concatenation).

    Parameters
    ----------
    function : callable
        Takes one array per input (a slice of rows of each) and returns a
        tensor, or a list or tuple of tensors (one per output).
    inputs : list of ndarray
        Arrays with equal row counts.
    chunk_rows : int
        Largest number of rows passed to ``function`` at once.

    Returns
    -------
    ndarray of shape (n_rows, ...), dtype float32, or a list of them
        A list when ``function`` returns a list or tuple.
    """
    n_rows = inputs[0].shape[0]
    if n_rows <= chunk_rows:
        result = function(*inputs)
        if isinstance(result, (list, tuple)):
            return [np.asarray(part, dtype=np.float32) for part in result]
        return np.asarray(result, dtype=np.float32)
    outs: list[np.ndarray] | None = None
    many = False
    for start in range(0, n_rows, chunk_rows):
        stop = min(start + chunk_rows, n_rows)
        result = function(*(x[start:stop] for x in inputs))
        many = isinstance(result, (list, tuple))
        parts = result if many else [result]
        if outs is None:
            outs = [np.empty((n_rows, *tuple(part.shape[1:])), dtype=np.float32) for part in parts]
        for out, part in zip(outs, parts, strict=False):
            out[start:stop] = part
    assert outs is not None  # n_rows > chunk_rows: the loop ran
    return outs if many else outs[0]


# Rows per call of the compiled function. Large enough that the per-call
# overhead (~0.1 ms) vanishes, small enough that the activations of a wide
# network stay bounded (a 128-wide layer holds 32 MiB at this size).
DEFAULT_CHUNK_ROWS = 65536


class CompiledForward:
    """Inference-mode forward pass of a Keras model, traced once.

    Parameters
    ----------
    model : keras.Model
        A built functional or sequential model. Its inputs are fed as a list
        of float32 arrays, in the order of ``model.inputs``.
    chunk_rows : int, default=65536
        Largest number of rows passed to the traced function at once.
    input_shift, input_scale : ndarray of shape (n_features,), default=None
        When given, a standard scaling ``(x - input_shift) / input_scale`` in
        float32 is traced in front of the (single-input) model, so that the
        scaler costs no separate pass over the data.

    Notes
    -----
    Instances are not picklable; estimators hold them in a private cache that
    they drop when pickled and rebuild on first use.
    """

    def __init__(
        self,
        model: keras.Model,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        input_shift: ArrayLike | None = None,
        input_scale: ArrayLike | None = None,
    ) -> None:
        self.model = model
        self.chunk_rows = int(chunk_rows)
        specs = [
            tf.TensorSpec((None, *tuple(inp.shape[1:])), dtype=inp.dtype) for inp in model.inputs
        ]
        self.input_dtypes = [np.dtype(spec.dtype.as_numpy_dtype) for spec in specs]
        single = len(specs) == 1
        forward: Callable[..., Any]

        if input_shift is not None:
            shift = np.asarray(input_shift, dtype=np.float32)
            scale = np.asarray(input_scale, dtype=np.float32)

            def forward(x: Any) -> Any:
                return call_scaled(model, x, shift, scale)

        else:

            def forward(*inputs: Any) -> Any:
                return model(inputs[0] if single else list(inputs), training=False)

        self._function = tf.function(forward, input_signature=specs, autograph=False)
        output = model.outputs[0] if len(model.outputs) == 1 else None
        if output is None:
            raise ValueError(
                f"a network with {len(model.outputs)} outputs cannot be used here;"
                " expected exactly one output"
            )
        self.output_shape = tuple(output.shape[1:])

    def __call__(self, inputs: Sequence[ArrayLike]) -> Any:
        """Run the network on ``inputs`` (a list of arrays with equal row counts).

        Returns
        -------
        ndarray of shape (n_rows, *output_shape), dtype float32
        """
        arrays = [
            np.ascontiguousarray(x, dtype=dtype)
            for x, dtype in zip(inputs, self.input_dtypes, strict=False)
        ]
        return forward_in_chunks(self._function, arrays, self.chunk_rows)
