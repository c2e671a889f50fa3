"""One compiled graph for a fitted chain's predict.

``Pipeline.predict`` on a chain runs scikit-learn's column dispatch, builds a
pandas frame of every block, validates it again in the regressor and calls
two networks one after the other. For a fitted chain whose features step is a
``ColumnTransformer`` of frozen networks, standard scalers and any other
transformers, :class:`FusedPredictor` reads each block's columns straight
from the frame as float32, takes network A's outputs from the frozen step
(its cache, or one compiled call of network A), and runs the numeric scalers
and the final network as one traced ``tf.function``; other blocks (one-hot,
hashing, ...) are computed by their own fitted transformers and fed in.
When network A's outputs for the rows are not cached yet (the usual case for
new rows), network A, with its standard scaler folded in, runs inside the
same traced graph, which returns its outputs (kept in the frozen step's
cache) next to the predictions: one call, as fast as a hand-fused Keras
graph. On a cache hit only the final part runs. Both graphs are made of the
same operations, so predictions do not depend on what was cached: a chain
reloaded in a new process predicts bit for bit the same (tested). Results
equal the step-by-step path to float32 rounding.

Anything it does not handle raises :class:`Unsupported` while it is built or
:class:`FallBack` while it predicts, and the caller then uses the ordinary
``Pipeline.predict``, which also gives the ordinary, named error messages.
"""

import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import StandardScaler

from ._base import dense_float32, standard_scaling, without_pandas_output
from ._inference import call_scaled
from .frozen import FrozenTransformer
from ._network import BlockNetworkMixin

__all__ = ["FallBack", "FusedPredictor", "Unsupported"]

# Rows per call of the graph: bounds the memory of the float32 copies of a
# large frame to a few chunks' worth.
CHUNK_ROWS = 65536


# TensorFlow's kernels assume 64-byte aligned buffers (Eigen's widest
# vectors); only such arrays are handed over without a copy.
_ALIGNMENT = 64


def _aligned_copy(values):
    """A C-contiguous, 64-byte aligned float32 copy of ``values`` (one pass)."""
    nbytes = values.size * 4
    raw = np.empty(nbytes + _ALIGNMENT, dtype=np.uint8)
    offset = (-raw.ctypes.data) % _ALIGNMENT
    out = raw[offset : offset + nbytes].view(np.float32).reshape(values.shape)
    np.copyto(out, values)
    return out


def _as_tensor(x):
    """``x`` as a tensor; without a copy when it is an aligned, writable C array."""
    if (
        isinstance(x, np.ndarray) and x.size and x.flags.c_contiguous and x.flags.writeable
        and x.dtype == np.float32 and x.ctypes.data % _ALIGNMENT == 0
    ):
        return tf.experimental.dlpack.from_dlpack(x.__dlpack__())
    return tf.convert_to_tensor(x, dtype=tf.float32)


class Unsupported(Exception):
    """The pipeline's shape has no fused form."""


class FallBack(Exception):
    """This input needs the step-by-step path (usually to get its error message)."""


class _Block:
    """One transformer of the features step, as the fused graph sees it."""

    def __init__(self, transformer, columns):
        self.columns = list(columns)
        if isinstance(transformer, FrozenTransformer):
            self.frozen = transformer
            self.width = int(transformer.layer().output.shape[-1])
            self.kind = "frozen"
        elif type(transformer) is StandardScaler:
            self.mean, self.scale = standard_scaling(transformer, len(self.columns))
            self.width = len(self.columns)
            self.kind = "scaled"
        else:
            # Computed by the fitted transformer itself, without pandas output.
            self.transformer = without_pandas_output(transformer)
            self.width = len(transformer.get_feature_names_out())
            self.kind = "given"

    def input_width(self):
        """Columns of this block's graph input."""
        return len(self.columns) if self.kind == "scaled" else self.width

    def graph_input(self, frame):
        """``(float32 rows, tensor of them)`` this block feeds the graph."""
        if self.kind == "given":
            rows = dense_float32(self.transformer.transform(frame[self.columns]))
            return rows, _as_tensor(rows)
        try:
            # pandas hands out column-major arrays; the graph reads rows.
            rows = _aligned_copy(frame[self.columns].to_numpy(dtype=np.float32))
        except (TypeError, ValueError):
            raise FallBack from None
        # A float32 sum is finite unless some value is not (or the sum
        # overflows, which only costs the step-by-step path).
        if not np.isfinite(rows.sum()):
            raise FallBack
        return rows, _as_tensor(rows)


class FusedPredictor:
    """Predict with a fitted chain: network A's outputs, then one traced graph.

    Parameters
    ----------
    features : ColumnTransformer
        The chain's fitted features step.
    regressor : ChainRegressor
        The chain's fitted final stage.

    Raises
    ------
    Unsupported
        When the pipeline has no fused form; use ``Pipeline.predict``.
    """

    def __init__(self, features, regressor):
        if not isinstance(features, ColumnTransformer) or not isinstance(regressor, BlockNetworkMixin):
            raise Unsupported("not a ColumnTransformer followed by a ChainRegressor or ChainClassifier")
        self.blocks = []
        for name, transformer, columns in features.transformers_:
            if isinstance(transformer, str):
                if transformer == "drop":
                    continue
                raise Unsupported(f"transformer {transformer!r}")
            if len(columns) == 0:
                continue
            if not all(isinstance(c, str) for c in columns):
                raise Unsupported("columns given by position")
            self.blocks.append(_Block(transformer, columns))
        self.n_features = sum(block.width for block in self.blocks)
        if self.n_features != regressor.n_features_in_:
            raise Unsupported("features width differs from the regressor's")
        self.columns = [c for block in self.blocks for c in block.columns]
        self.regressor = regressor
        bounds = [(start, stop) for _, start, stop in regressor.input_blocks_]
        per_block = len(bounds) == len(self.blocks) and all(
            (start, stop) == (offset, offset + block.width)
            for (start, stop), block, offset in zip(bounds, self.blocks, self._offsets())
        )
        network = regressor.model_
        blocks = self.blocks

        def forward(*inputs):
            tensors = [
                (x - block.mean) / block.scale if block.kind == "scaled" else x
                for block, x in zip(blocks, inputs)
            ]
            if per_block:
                model_inputs = tensors
            else:
                merged = tf.concat(tensors, axis=1)
                model_inputs = [merged[:, start:stop] for start, stop in bounds]
            single = len(model_inputs) == 1
            return network(model_inputs[0] if single else model_inputs, training=False)

        specs = [tf.TensorSpec((None, block.input_width()), tf.float32) for block in blocks]
        self._function = tf.function(forward, input_signature=specs, autograph=False)
        self._with_network_a = self._build_with_network_a(forward, specs)

    def _build_with_network_a(self, forward, specs):
        """The graph that also runs network A, when there is one frozen network to fold in.

        Network A's part is the same operations as its own compiled call
        (``(x - mean) / scale``, then its layers up to the output layer), so
        its outputs are the same bits as ``transform``'s.
        """
        frozen = [i for i, block in enumerate(self.blocks) if block.kind == "frozen"]
        if len(frozen) != 1:
            return None
        index = frozen[0]
        block = self.blocks[index]
        inner = block.frozen.estimator
        folded = inner.folded_scaling()
        if folded is None:
            return None
        upto = inner.layer_model(block.frozen.layer())

        def forward_with_network_a(*inputs):
            representation = call_scaled(upto, inputs[index], **folded)
            inputs = [*inputs[:index], representation, *inputs[index + 1 :]]
            return representation, forward(*inputs)

        specs = list(specs)
        specs[index] = tf.TensorSpec((None, inner.n_features_in_), tf.float32)
        return tf.function(forward_with_network_a, input_signature=specs, autograph=False)

    def _offsets(self):
        offset = 0
        for block in self.blocks:
            yield offset
            offset += block.width

    def outputs(self, frame):
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
        if frame.columns.has_duplicates or not set(self.columns) <= set(frame.columns):
            raise FallBack
        n_rows = len(frame)
        if n_rows <= CHUNK_ROWS:
            return self._predict_chunk(frame)
        out = None
        for start in range(0, n_rows, CHUNK_ROWS):
            part = self._predict_chunk(frame.iloc[start : start + CHUNK_ROWS])
            if out is None:
                out = np.empty((n_rows, *part.shape[1:]), dtype=np.float32)
            out[start : start + len(part)] = part
        return out

    def _predict_chunk(self, frame):
        arrays, tensors = zip(*(block.graph_input(frame) for block in self.blocks))
        tensors = list(tensors)
        outputs = []

        def with_network_a(rows, layer_name):
            representation, predictions = self._with_network_a(*tensors)
            outputs.append(predictions)
            return np.asarray(representation)

        compute = with_network_a if self._with_network_a is not None else None
        representations = {
            # The frozen step's own cache and shift check; on a miss network A
            # runs inside the same graph as the final network.
            i: block.frozen._representation(arrays[i], compute)
            for i, block in enumerate(self.blocks) if block.kind == "frozen"
        }
        if outputs:
            outputs = outputs[0]
        else:
            for i, representation in representations.items():
                tensors[i] = _as_tensor(representation)
            outputs = self._function(*tensors)
        return np.asarray(outputs, dtype=np.float32)
