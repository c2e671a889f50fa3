"""The block-aware final network, shared by :class:`ChainRegressor` and :class:`ChainClassifier`.

The chain's ``ColumnTransformer`` names its output columns
``"<block>__<feature>"``; the final network gives each block of columns its
own branch (Dense, entity embeddings for ``"embedded*"`` blocks, a masked GRU
for ``"sequence*"`` blocks), concatenates them, and ends in ``hidden_units``
Dense layers and an output layer that the regressor and the classifier each
choose (:meth:`BlockNetworkMixin._output_layer`). Everything here is shared;
the two estimators add their target handling.
"""

from __future__ import annotations

import numbers
import re

import keras
import numpy as np
from sklearn.preprocessing import FunctionTransformer

from ._base import CompiledModelMixin, check_fitted
from ._callbacks import EpochCallbacksMixin
from ._early_stopping import EarlyStoppingMixin
from ._seeding import KeptRandomStateMixin
from ._validation import as_pandas, check_sample_weight_length, check_training_params, validate_float32
from .encoders import default_embedding_width
from .layers import CategoryIndex, EntityEmbedding

__all__ = ["BlockNetworkMixin", "blocks_for_final_network", "input_blocks"]

#: Blocks whose name starts with these get an entity embedding per column,
#: or a recurrent branch over padded sequences, instead of a Dense branch.
EMBEDDED_PREFIX = "embedded"
SEQUENCE_PREFIX = "sequence"


def input_blocks(feature_names, n_features):
    """Split columns into blocks by their ``"<block>__"`` name prefix.

    ``ColumnTransformer`` names its output columns ``"<transformer>__<feature>"``;
    consecutive columns with the same prefix form one block. Without such
    names, all columns form one block called ``"features"``.

    Returns
    -------
    list of (name, start, stop)

    Examples
    --------
    >>> from skchain._network import input_blocks
    >>> input_blocks(["representation__e0", "representation__e1", "numeric__age"], 3)
    [('representation', 0, 2), ('numeric', 2, 3)]
    """
    if feature_names is None or not all("__" in str(n) for n in feature_names):
        return [("features", 0, n_features)]
    blocks = []
    for i, name in enumerate(feature_names):
        prefix = str(name).split("__", 1)[0]
        if blocks and blocks[-1][0] == prefix and blocks[-1][2] == i:
            blocks[-1] = (prefix, blocks[-1][1], i + 1)
        else:
            blocks.append((prefix, i, i + 1))
    seen = {}
    unique = []
    for name, start, stop in blocks:
        seen[name] = seen.get(name, 0) + 1
        unique.append((name if seen[name] == 1 else f"{name}{seen[name]}", start, stop))
    return unique


def _integer_columns(X):
    """Names of a DataFrame's integer columns (token ids of sequence blocks)."""
    if not hasattr(X, "dtypes"):
        return set()
    return {str(name) for name, dtype in X.dtypes.items() if getattr(dtype, "kind", "O") in "iu"}


def _split_columns(X, bounds):
    return [X[:, start:stop] for start, stop in bounds]


def _layer_name(block):
    return re.sub(r"[^0-9a-zA-Z_]", "_", block)


def _blocks_from_names(feature_names, n_features):
    """``(input_blocks_, block_kinds_)`` read from the pandas column names.

    Only for a final stage fitted outside a :class:`~skchain.Chain` (in a
    hand-built ``Pipeline``): inside a chain, the block plan tells.
    """
    blocks = input_blocks(feature_names, n_features)
    kinds = {}
    for name, _, _ in blocks:
        if name.startswith(EMBEDDED_PREFIX):
            kinds[name] = "embedded"
        elif name.startswith(SEQUENCE_PREFIX):
            kinds[name] = "sequence"
    return blocks, kinds


def blocks_for_final_network(plan, n_features):
    """``(input_blocks_, block_kinds_)`` of the final network from a chain's block plan."""
    blocks, kinds, start = [], {}, 0
    for block in plan:
        blocks.append((block.name, start, start + block.width))
        start += block.width
        if block.kind in ("embedded", "sequence"):
            kinds[block.name] = block.kind
    if start != n_features:
        raise ValueError(f"the blocks' widths add up to {start}, the features have {n_features}")
    return blocks, kinds


class BlockNetworkMixin(EpochCallbacksMixin, KeptRandomStateMixin, EarlyStoppingMixin,
                        CompiledModelMixin):
    """What :class:`ChainRegressor` and :class:`ChainClassifier` share (see the module docstring).

    A subclass sets ``_STAGE``, validates its target in
    :meth:`_validate_target` and builds its output in :meth:`_output_layer`.
    """

    _STAGE = "final network"

    # ------------------------------------------------------------------ fit
    def _fit_network(self, fit, X, y, sample_weight, X_val, y_val, stage):
        """Validate, then run scikeras' ``fit`` (``fit()``) with callbacks and validation rows."""
        X, y = self._validate_rows(X, y, sample_weight, reset=True, stage=stage)
        pending = self.__dict__.pop("_validation_from_chain", None)
        if X_val is None and y_val is None and pending is not None:
            X_val, y_val = pending()
        if (X_val is None) != (y_val is None):
            raise ValueError(f"{stage}: pass both X_val and y_val, or neither")
        if X_val is not None:
            X_val = validate_float32(self, X_val, reset=False, stage=f"{stage} (X_val)")
            y_val = self._validate_target(X_val, y_val, f"{stage} (y_val)")
            self._validation_rows = (X_val, self._training_target(y_val))
        try:
            self._fit_with_callbacks(lambda: fit(X, y, sample_weight), X, y)
        finally:
            self.__dict__.pop("_validation_rows", None)
        return self

    def _validate_rows(self, X, y, sample_weight, reset, stage):
        """:meth:`_validate_training_data`, one weight per row of ``X``, and the target
        the network trains on (:meth:`_training_target`)."""
        X, y = self._validate_training_data(X, y, reset=reset, stage=stage)
        if sample_weight is not None:
            check_sample_weight_length(sample_weight, X, stage)
        if reset:
            self._fit_target_scaling(y, sample_weight, stage)
        return X, self._training_target(y)

    def _fit_target_scaling(self, y, sample_weight, stage):
        """Fit what :meth:`_training_target` applies (a regressor's target scaler)."""

    def _training_target(self, y):
        """The validated target as the network trains on it (the regressor scales it)."""
        return y

    def _validate_training_data(self, X, y, reset, stage):
        self._check_hyperparameters()
        if y is None:
            raise ValueError(f"{stage}: requires y to be passed, but the target y is None")
        X = as_pandas(X, stage)
        integer_columns = _integer_columns(X)
        X = validate_float32(self, X, reset=reset, stage=stage)
        y = self._validate_target(X, y, stage)
        from_chain = self.__dict__.pop("_blocks_from_chain", None)
        if reset:
            names = getattr(self, "feature_names_in_", None)
            if self._uses_default_network() and self.branch_per_block:
                planned = None
                if from_chain is not None:
                    try:
                        planned = from_chain()
                    except (TypeError, ValueError):  # a features step with no block plan
                        planned = None
                self.input_blocks_, self.block_kinds_ = (
                    planned or _blocks_from_names(names, X.shape[1])
                )
            else:
                self.input_blocks_, self.block_kinds_ = [("features", 0, X.shape[1])], {}
            self._plan_special_blocks(X, names, integer_columns, stage)
        self._clear_compiled()
        return X, y

    def _plan_special_blocks(self, X, names, integer_columns, stage):
        """Sizes of the embedded and sequence branches, read from the training rows."""
        self.embedding_sizes_, self.sequence_blocks_ = {}, {}
        if not self._uses_default_network() or not self.branch_per_block:
            return
        widths = self.embedding_dim if isinstance(self.embedding_dim, dict) else {}
        for block, start, stop in self.input_blocks_:
            kind = self.block_kinds_.get(block)
            if kind == "embedded":
                codes = X[:, start:stop]
                if len(codes) and (codes != np.round(codes)).any():
                    raise ValueError(
                        f"{stage}: block {block!r} holds non-integer values; expected"
                        " the integer codes of an OrdinalEncoder"
                    )
                for j in range(start, stop):
                    feature = str(names[j]) if names is not None else f"x{j}"
                    column = feature.split("__", 1)[-1]
                    levels = int(X[:, j].max(initial=-1)) + 1
                    width = widths.get(column, self.embedding_dim)
                    if width is None or isinstance(width, dict):
                        width = default_embedding_width(max(levels, 1))
                    self.embedding_sizes_[feature] = (max(levels, 0) + 2, int(width))
            elif kind == "sequence":
                tokens = all(names is not None and str(names[j]) in integer_columns
                             for j in range(start, stop))
                vocabulary = int(X[:, start:stop].max(initial=0)) + 2 if tokens else 0
                if tokens and len(X) and X[:, start:stop].min() < 0:
                    raise ValueError(
                        f"{stage}: block {block!r} holds negative token ids; expected ids"
                        " >= 1, with 0 for padding"
                    )
                self.sequence_blocks_[block] = {
                    "tokens": tokens, "steps": stop - start, "vocabulary": vocabulary,
                }

    def _uses_default_network(self):
        return self.model is None and self.build_fn is None

    def _check_hyperparameters(self):
        stage = self._STAGE
        check_training_params(self, stage)
        units = self.hidden_units
        units = (units,) if isinstance(units, numbers.Integral) else units
        if not all(isinstance(u, numbers.Integral) and u > 0 for u in units):
            raise ValueError(
                f"{stage}: hidden_units={self.hidden_units!r}; expected a positive"
                " int or a tuple of positive ints"
            )
        if self.branch_units is not None and not (
            isinstance(self.branch_units, numbers.Integral) and self.branch_units > 0
        ):
            raise ValueError(
                f"{stage}: branch_units={self.branch_units!r}; expected a positive int or None"
            )
        dims = self.embedding_dim
        dims = dims.values() if isinstance(dims, dict) else [] if dims is None else [dims]
        if not all(isinstance(d, numbers.Integral) and d > 0 for d in dims):
            raise ValueError(
                f"{stage}: embedding_dim={self.embedding_dim!r}; expected None, a"
                " positive int or a dict of positive ints"
            )
        if not (isinstance(self.token_embedding_dim, numbers.Integral)
                and self.token_embedding_dim > 0):
            raise ValueError(
                f"{stage}: token_embedding_dim={self.token_embedding_dim!r}; expected"
                " a positive int"
            )
        if not (isinstance(self.dropout, numbers.Real) and 0 <= self.dropout < 1):
            raise ValueError(f"{stage}: dropout={self.dropout!r}; expected a float in [0, 1)")

    # -------------------------------------------------------------- network
    @property
    def feature_encoder(self):
        """Splits the feature matrix into one array per input of the network."""
        if len(self.input_blocks_) == 1:
            return FunctionTransformer()
        bounds = [(start, stop) for _, start, stop in self.input_blocks_]
        return FunctionTransformer(_split_columns, kw_args={"bounds": bounds})

    def _build_keras_model(self):
        model = super()._build_keras_model()
        expected = [stop - start for _, start, stop in self.input_blocks_]
        got = [int(inp.shape[-1]) if inp.shape[-1] is not None else -1 for inp in model.inputs]
        if got != expected:
            if len(got) == 1 and len(expected) == 1:
                detail = (
                    f"the network takes {got[0]} input columns, the features have"
                    f" {expected[0]}; build its input from meta['n_features_in_']"
                )
            else:
                detail = (
                    f"the network's inputs have widths {got}, the feature blocks"
                    f" {[name for name, _, _ in self.input_blocks_]} have widths {expected}"
                )
            raise ValueError(f"{self._STAGE}: {detail}")
        return model

    def _check_model_param(self):
        if self._uses_default_network():
            return self._build_default_network
        return super()._check_model_param()

    def _build_default_network(self, compile_kwargs):
        units = self.hidden_units
        units = (units,) if isinstance(units, numbers.Integral) else tuple(units)
        # Seeds of their own for every initializer and dropout layer: Keras
        # would draw them from Python's global ``random``, which other threads
        # (a Dask worker's event loop, for one) may draw from meanwhile.
        seeds = np.random.default_rng(self._random_state)

        def seed():
            return None if self._random_state is None else int(seeds.integers(2**31 - 1))

        def dense(width, name, activation):
            return keras.layers.Dense(
                width, activation=activation, name=name,
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed()),
            )

        inputs, branches = [], []
        for name, start, stop in self.input_blocks_:
            inp = keras.Input((stop - start,), name=_layer_name(name))
            inputs.append(inp)
            if name in self.sequence_blocks_:
                branches.append(self._sequence_branch(name, inp, seed))
            elif self.block_kinds_.get(name) == "embedded" and self.embedding_sizes_:
                sizes = [self.embedding_sizes_[f] for f in self._block_features(start, stop)]
                branches.append(EntityEmbedding(
                    [rows for rows, _ in sizes], [width for _, width in sizes],
                    seed=seed(), name=f"{_layer_name(name)}_embeddings",
                )(inp))
            elif self.branch_units is None:
                branches.append(inp)
            else:
                branches.append(
                    dense(self.branch_units, f"{_layer_name(name)}_branch", self.activation)(inp)
                )
        x = branches[0] if len(branches) == 1 else keras.layers.Concatenate(name="merge")(branches)
        for i, width in enumerate(units):
            x = dense(width, f"hidden{i}", self.activation)(x)
            if self.dropout:
                x = keras.layers.Dropout(self.dropout, seed=seed(), name=f"dropout{i}")(x)
        width, activation = self._output_layer()
        outputs = dense(width, "output", activation)(x)
        network = keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs)
        network.compile(**compile_kwargs)
        return network

    def _output_layer(self):
        """``(units, activation)`` of the default network's output layer."""
        raise NotImplementedError

    def _block_features(self, start, stop):
        names = getattr(self, "feature_names_in_", None)
        return [str(names[j]) if names is not None else f"x{j}" for j in range(start, stop)]

    def _sequence_branch(self, name, inp, seed):
        """Padded steps masked out, then a GRU over the sequence."""
        info = self.sequence_blocks_[name]
        prefix = _layer_name(name)
        if info["tokens"]:
            vocabulary = info["vocabulary"]
            x = CategoryIndex(vocabulary, unknown_index=vocabulary - 1, name=f"{prefix}_ids")(inp)
            x = keras.layers.Embedding(
                vocabulary, self.token_embedding_dim, mask_zero=True, name=f"{prefix}_tokens",
                embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05, seed=seed()),
            )(x)
        else:
            x = keras.layers.Reshape((info["steps"], 1), name=f"{prefix}_steps")(inp)
            x = keras.layers.Masking(0.0, name=f"{prefix}_mask")(x)
        return keras.layers.GRU(
            self.branch_units or 32, name=f"{prefix}_gru",
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed()),
            recurrent_initializer=keras.initializers.Orthogonal(seed=seed()),
        )(x)

    def category_embeddings(self) -> dict[str, np.ndarray]:
        """The learned entity embedding of each ``"embedded"`` column.

        Returns
        -------
        dict
            ``{feature name: ndarray of shape (rows, width)}``; row 0 is the
            missing value, row 1 a level not seen in ``fit``, row ``2 + c``
            the level with code ``c``. :meth:`skchain.Chain.category_embeddings`
            adds the level labels.
        """
        check_fitted(self, self._STAGE)
        tables = {}
        for layer in self.model_.layers:
            if isinstance(layer, EntityEmbedding):
                start = next(
                    s for name, s, _ in self.input_blocks_
                    if f"{_layer_name(name)}_embeddings" == layer.name
                )
                features = self._block_features(start, start + len(layer.tables))
                tables.update(zip(features, layer.embeddings()))
        return tables

    def _get_compile_kwargs(self):
        kwargs = super()._get_compile_kwargs()
        optimizer = kwargs.get("optimizer")
        given_by_name = isinstance(self.optimizer, (str, type))
        if (
            given_by_name
            and self.learning_rate is not None
            and not hasattr(self, "optimizer__learning_rate")
            and isinstance(optimizer, keras.optimizers.Optimizer)
        ):
            optimizer.learning_rate = self.learning_rate
        return kwargs

    # -------------------------------------------------------------- predict
    def _network_outputs(self, X):
        """The network's raw outputs for validated float32 features, one compiled call."""
        inputs = self.feature_encoder_.transform(X)
        inputs = inputs if isinstance(inputs, list) else [inputs]
        return self._forward(("network",), lambda: self.model_)(inputs)
