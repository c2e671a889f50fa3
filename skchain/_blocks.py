"""The block plan of a fitted features step: what every other part reads.

A chain's features step is a ``ColumnTransformer``; each of its fitted
transformers makes one *block* of the final network's input. :func:`block_plan`
describes each block once: its name, kind, columns, output width, fitted
transformer, the fitted constants inside it, and the Keras sub-graph that
computes it from the block's raw columns. The final network's branches (in a
chain), the compiled ``predict``, the exported model, fine-tuning, category
embeddings and the plots read the plan; this is the only module that reads
``transformers_``.

Kinds, decided by the fitted transformer (never by its name):

``representation``
    A :class:`~skchain.FrozenTransformer` (network A), alone or after a
    :class:`~skchain.SequencePadder`.
``numeric``
    A ``StandardScaler``, alone or after imputers.
``onehot``, ``embedded``, ``hashed``
    A pipeline ending in ``OneHotEncoder`` / ``OrdinalEncoder`` (its codes are
    entity-embedded by the final network), or a :class:`~skchain.HashingEncoder`.
``sequence``
    A :class:`~skchain.SequencePadder` (the final network's recurrent branch).
``other``
    Anything else; computed by its own fitted transformer.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from ._base import dense_float32, standard_scaling, without_pandas_output
from .encoders import MISSING, CategoricalLevels, EncodingColumns, HashingEncoder, level_texts
from .frozen import FrozenTransformer
from .passthrough import NetworkAInputs
from .layers import FillMissing, LevelTable, Standardize
from .sequences import SequencePadder

__all__ = ["Block", "block_plan", "fitted_transformers", "plan_state", "replace_network", "serving_name"]

#: Kinds whose columns are categorical (level text at the served model's input).
CATEGORICAL_KINDS = ("onehot", "embedded", "hashed")

#: How each categorical kind is called in ``make_chain(categorical_encoding=...)``.
ENCODING_OF_KIND = {"onehot": "onehot", "embedded": "embed", "hashed": "hash"}


def fitted_transformers(features):
    """``[(name, fitted transformer, columns)]`` of a fitted ``ColumnTransformer``,
    without dropped or empty ones."""
    return [
        (name, transformer, columns)
        for name, transformer, columns in getattr(features, "transformers_", [])
        if not (isinstance(transformer, str) and transformer == "drop") and len(columns)
    ]


def serving_name(column):
    """The served model's input name for ``column``: characters other than letters,
    digits, ``_``, ``.`` and ``-`` become ``_`` (TensorFlow's rule for tensor names)."""
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", str(column))
    return name if re.match(r"[A-Za-z0-9.]", name) else f"x{name}"


@dataclass(eq=False)
class Block:
    """One block of a fitted features step (see the module docstring)."""

    name: str
    kind: str
    columns: list
    width: int
    transformer: object
    network: FrozenTransformer | None = None  # representation
    padder: SequencePadder | None = None  # representation after padding, sequence
    fill: np.ndarray | None = None  # numeric: what the imputers write for a missing value
    scaling: tuple | None = None  # numeric: (shift, scale) of the StandardScaler
    why_not_served: str | None = None  # why the served model cannot compute the block
    _tables: list | None = field(default=None, repr=False)
    _index: list | None = field(default=None, repr=False)
    _plain: object = field(default=None, repr=False)

    # ------------------------------------------------------------ the fused predict
    @property
    def in_graph(self):
        """Whether the graph computes the block from its raw columns (else from the
        transformer's output)."""
        if self.kind == "representation":
            return self.network.estimator.folded_scaling() is not None
        return self.kind == "numeric" and self.scaling is not None

    def entry(self, frame):
        """The float32 rows this block feeds the graph, for a DataFrame.

        Network A's input rows for a representation (padded when it reads
        sequences), the raw columns of a numeric block, else the fitted
        transformer's output. Raises ``ValueError``/``TypeError`` for values
        the graph does not take (the caller then goes step by step).
        """
        if self.kind == "representation" and self.padder is not None:
            return dense_float32(self.padder.transform(frame[self.columns]))
        if self.kind in ("onehot", "embedded") and not self.why_not_served:
            return self._looked_up(frame)
        if not self.in_graph and self.kind != "representation":
            if self._plain is None:
                self._plain = without_pandas_output(self.transformer)
            return dense_float32(self._plain.transform(frame[self.columns]))
        rows = frame[self.columns].to_numpy(dtype=np.float32)
        bad = np.isinf(rows).any() if self.fill is not None else not np.isfinite(rows.sum())
        if bad:
            raise ValueError(f"{self.name}: values the graph does not take")
        return rows

    @property
    def entry_width(self):
        if self.kind == "representation":
            return int(self.network.estimator.n_features_in_)
        return len(self.columns) if self.in_graph else self.width

    def scaling_layers(self):
        """The Keras layers that turn this block's entry into network A's or the final
        network's input: imputing and standard scaling, in order."""
        if self.kind == "representation":
            folded = self.network.estimator.folded_scaling()
            if not folded:
                return []
            return [Standardize(folded["input_shift"], folded["input_scale"],
                                name=f"{_layer_name(self.name)}_network_a_scaler")]
        layers = []
        if self.fill is not None:
            layers.append(FillMissing(self.fill, name=f"{_layer_name(self.name)}_imputer"))
        if self.scaling is not None:
            layers.append(Standardize(*self.scaling, name=f"{_layer_name(self.name)}_scaler"))
        return layers

    @property
    def encoder(self):
        """The fitted transformer's last step (a categorical block's encoder)."""
        return _steps(self.transformer)[-1]

    def network_a(self):
        """Network A from its input to this step's output layer, as a Keras model."""
        inner = self.network.estimator
        return inner.layer_model(self.network.layer())

    # ------------------------------------------------------------ the served model
    def serving_inputs(self):
        """``[(input name, column, shape, dtype)]`` of this block's served inputs."""
        if self.why_not_served:
            raise ValueError(self.why_not_served)
        if self.padder is not None:
            return [(serving_name(c), c, (self.padder.maxlen_,), "float32") for c in self.columns]
        dtype = "string" if self.kind in CATEGORICAL_KINDS else "float32"
        return [(serving_name(c), c, (1,), dtype) for c in self.columns]

    def serving_entry(self, inputs):
        """The block's entry (see :meth:`entry`) from the served inputs (Keras tensors)."""
        import keras

        parts = [inputs[name] for name, _, _, _ in self.serving_inputs()]
        if self.kind in CATEGORICAL_KINDS:
            parts = [
                LevelTable(vocabulary, table, name=f"{_layer_name(self.name)}_{serving_name(c)}_levels")(x)
                for x, c, (vocabulary, table) in zip(parts, self.columns, self.level_tables())
            ]
        return parts[0] if len(parts) == 1 else keras.ops.concatenate(parts, axis=1)

    def serving_values(self, frame):
        """``{input name: ndarray}`` for the served model, from a DataFrame."""
        out = {}
        for name, column, shape, dtype in self.serving_inputs():
            values = frame[[column]]
            if self.padder is not None:
                padder = _one_column_padder(self.padder, column)
                out[name] = dense_float32(padder.transform(values))
            elif dtype == "string":
                out[name] = level_texts(values.iloc[:, 0]).astype(object).reshape(-1, 1)
            else:
                out[name] = values.to_numpy(dtype=np.float32).reshape(-1, 1)
        return out

    def _looked_up(self, frame):
        """The encoder's output through the level tables (the served model's lookups, in
        NumPy): exact, and much faster than the encoder on a few rows."""
        parts = []
        for column, (vocabulary, table), index in zip(self.columns, self.level_tables(),
                                                      self._indexes()):
            parts.append(table[index.get_indexer(level_texts(frame[column])) + 1])
        return np.ascontiguousarray(parts[0] if len(parts) == 1 else np.hstack(parts))

    def _indexes(self):
        if self._index is None:
            self._index = [pd.Index(vocabulary, dtype=object) for vocabulary, _ in self.level_tables()]
        return self._index

    def level_tables(self):
        """``[(vocabulary, table)]`` per column of a categorical block (see :class:`LevelTable`).

        Read off the fitted encoder itself: each level it knows, the missing
        value and an unseen level go through ``transform``, so unknown,
        missing and infrequent levels get exactly the encoder's output.
        """
        if self._tables is None:
            self._tables = _level_tables(self)
        return self._tables


def _layer_name(name):
    return re.sub(r"[^0-9a-zA-Z_]", "_", name)


def _one_column_padder(padder, column):
    """The fitted padder restricted to one of its columns (it pads each column alike)."""
    import copy

    one = copy.copy(padder)
    one.n_features_in_ = 1
    one.feature_names_in_ = np.asarray([column], dtype=object)
    return one


def _level_tables(block):
    encoder = block.encoder
    transform = without_pandas_output(block.transformer).transform
    widths = getattr(encoder, "_n_features_outs", None) or [1] * len(block.columns)
    tables, offset = [], 0
    for j, column in enumerate(block.columns):
        known = [str(c) for c in encoder.categories_[j] if not pd.isna(c) and str(c) != MISSING]
        unseen = "<unseen>"
        while unseen in known:
            unseen = f"<{unseen}>"
        probe = pd.DataFrame({c: [_a_level(encoder, k)] * (len(known) + 2) for k, c in enumerate(block.columns)})
        probe[column] = pd.Series([unseen, *known, None], dtype=object)
        with warnings.catch_warnings():
            # An unseen level may be "encoded as all zeros": that is the point.
            warnings.simplefilter("ignore", UserWarning)
            out = dense_float32(transform(probe))[:, offset : offset + widths[j]]
        tables.append(([*known, MISSING], out))
        offset += widths[j]
    if offset != block.width:
        raise ValueError(f"{block.name}: unexpected encoder layout")
    return tables


def _a_level(encoder, j):
    """Some value column ``j`` of the encoder accepts (the other columns of a probe)."""
    categories = encoder.categories_[j]
    return categories[0] if len(categories) else None


def _steps(transformer):
    return [step for _, step in transformer.steps] if isinstance(transformer, Pipeline) else [transformer]


def _unserved_scaler(name, network_a):
    """Why block ``name`` cannot be served for network A's input scaler, or None."""
    if network_a.folded_scaling() is not None:
        return None
    return (
        f"block {name!r}: network A's scaler must be a StandardScaler (or None) to be"
        f" served; got {type(network_a.scaler_).__name__}"
    )


def _describe(name, transformer, columns):
    """One :class:`Block` from one fitted transformer of the features step."""
    columns = list(columns)
    steps = _steps(transformer)
    last, before = steps[-1], steps[:-1]
    block = Block(name, "other", columns, 0, transformer)
    if isinstance(last, NetworkAInputs) and not before:
        # Numbers scaled by network A's scaler: a numeric block in A's column order.
        block.kind = "numeric"
        block.columns = [str(c) for c in getattr(last, "feature_names_in_", columns)]
        block.width = int(last.estimator.n_features_in_)
        folded = last.estimator.folded_scaling()
        block.why_not_served = _unserved_scaler(name, last.estimator)
        if folded is not None:
            ones = np.ones(block.width, np.float32)
            block.scaling = (folded.get("input_shift", 0 * ones), folded.get("input_scale", ones))
        return block
    if isinstance(last, FrozenTransformer) and all(isinstance(s, SequencePadder) for s in before) \
            and len(before) <= 1:
        block.kind, block.network = "representation", last
        block.padder = before[0] if before else None
        if block.padder is None and getattr(last, "feature_names_in_", None) is not None:
            # The one rule for column identity: the frozen step matched B's columns
            # to network A's inputs in fit; every path reads them in its order.
            block.columns = [str(c) for c in last.feature_names_in_]
        block.width = int(last.layer().output.shape[-1])
        block.why_not_served = _unserved_scaler(name, last.estimator)
        return block
    block.width = len(transformer.get_feature_names_out())
    if type(last) is StandardScaler:
        block.kind = "numeric"
        if all(type(s) is SimpleImputer and not s.add_indicator for s in before):
            if before:
                missing = pd.DataFrame(np.full((1, len(columns)), np.nan), columns=columns)
                for imputer in before:
                    missing = without_pandas_output(imputer).transform(missing)
                block.fill = np.asarray(missing, np.float32).ravel()
            block.scaling = standard_scaling(last, len(columns))
        else:
            block.why_not_served = (
                f"block {name!r}: only SimpleImputer (without add_indicator) before the"
                " StandardScaler can be served"
            )
        return block
    kinds = {OneHotEncoder: "onehot", OrdinalEncoder: "embedded", HashingEncoder: "hashed",
             SequencePadder: "sequence"}
    block.kind = kinds.get(type(last), "other")
    if block.kind == "sequence":
        block.padder = last if not before else None
        if before:
            block.why_not_served = f"block {name!r}: only a SequencePadder alone can be served"
    elif block.kind == "hashed":
        block.why_not_served = (
            f"block {name!r}: the hash-encoded column(s) {columns} cannot be served:"
            " scikit-learn's FeatureHasher (MurmurHash3) has no Keras or standard ONNX"
            " equivalent. Encode them with categorical_encoding='onehot' or 'embed'"
            " (make_chain), which every format (to_keras, tf_saved_model, onnx) exports"
        )
    elif block.kind in ("onehot", "embedded") and (
        len(before) != 1 or not isinstance(before[0], CategoricalLevels)
    ):
        block.why_not_served = (
            f"block {name!r}: a categorical encoder can be served after CategoricalLevels"
            " only (as make_categorical_encoder builds it)"
        )
    elif block.kind == "other":
        block.why_not_served = (
            f"block {name!r}: {type(transformer).__name__} has no served form; the served"
            " model takes network A, StandardScaler (after SimpleImputer), the"
            " 'onehot'/'embed' encoders and SequencePadder"
        )
    return block


def block_plan(features):
    """The blocks of a fitted features step, in output order.

    Parameters
    ----------
    features : ColumnTransformer
        Fitted, with every block's columns given by name.

    Returns
    -------
    list of Block

    Raises
    ------
    TypeError
        When ``features`` is not a fitted ``ColumnTransformer`` of named
        columns (a chain's features step always is).
    """
    if not isinstance(features, ColumnTransformer) or not hasattr(features, "transformers_"):
        raise TypeError("the features step is not a fitted ColumnTransformer")
    plan = []
    for name, transformer, columns in fitted_transformers(features):
        if isinstance(transformer, str) or not all(isinstance(c, str) for c in columns):
            raise TypeError(f"block {name!r}: passthrough or columns given by position")
        plan.append(_describe(name, transformer, columns))
    return plan


def replace_network(features, block, step):
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


def check_block_columns(features, X, stage):
    """Name the block and the column when a column is missing, or a numeric one holds
    text, infinity, or missing values without an imputer."""
    if not hasattr(X, "dtypes") or not isinstance(features, ColumnTransformer):
        return
    for name, transformer, columns in features.transformers:
        if isinstance(columns, EncodingColumns):
            columns = [*columns.columns, *columns.auto_columns]
        if not isinstance(columns, list):
            continue
        missing = [c for c in columns if c not in X.columns]
        if missing:
            raise ValueError(
                f"{stage} (features step, {name!r} block): column(s) {missing}"
                f" missing from X; this block reads the columns {columns}"
            )
        scaler_only = isinstance(transformer, StandardScaler)
        imputed = isinstance(transformer, Pipeline) and isinstance(
            transformer.steps[-1][1], StandardScaler
        )
        if not (scaler_only or imputed):
            continue
        for column in columns:
            values = X[column]
            if values.dtype.kind not in "iufb":
                values = pd.to_numeric(X[column], errors="coerce")
                bad = X[column][values.isna() & X[column].notna()]
                if len(bad):
                    raise TypeError(
                        f"{stage} ({name} columns): column {column!r} holds"
                        f" non-numeric values such as {bad.iloc[0]!r}; expected numbers"
                    )
            if values.dtype.kind == "f" and np.isinf(values.to_numpy()).any():
                raise ValueError(
                    f"{stage} ({name} columns): column {column!r} holds"
                    f" {int(np.isinf(values.to_numpy()).sum())} infinite value(s);"
                    " expected finite numbers"
                )
            if scaler_only and values.isna().any():
                raise ValueError(
                    f"{stage} ({name} columns): column {column!r} has"
                    f" {int(values.isna().sum())} missing value(s); expected numbers."
                    " Pass numeric_imputer= to make_chain (e.g. 'median') to fill them"
                )


def plan_state(features):
    """A key that changes whenever the fitted blocks do (refit, ``set_params``, fine-tuning)."""
    return (
        id(getattr(features, "transformers_", None)),
        tuple(
            (id(t), getattr(last, "output_layer", None), id(getattr(last, "estimator", None)))
            for _, t, _ in getattr(features, "transformers_", [])
            for last in [_steps(t)[-1] if not isinstance(t, str) else t]
        ),
    )
