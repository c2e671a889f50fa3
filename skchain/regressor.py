"""The final stage of a chain: a scikeras regressor with a block-aware network."""

from __future__ import annotations

import numbers
import re

import keras
import numpy as np
from scikeras.wrappers import KerasRegressor
from sklearn.base import RegressorMixin
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils._tags import RegressorTags

from sklearn.callback import with_callbacks

from ._base import CompiledModelMixin, check_fitted
from ._callbacks import EpochCallbacksMixin
from ._validation import validate_float32
from .encoders import default_embedding_width
from .layers import CategoryIndex, EntityEmbedding

__all__ = ["ChainRegressor"]

_STAGE = "ChainRegressor (final network)"


def input_blocks(feature_names, n_features):
    """Split columns into blocks by their ``"<block>__"`` name prefix.

    ``ColumnTransformer`` names its output columns ``"<transformer>__<feature>"``;
    consecutive columns with the same prefix form one block. Without such
    names, all columns form one block called ``"features"``.

    Returns
    -------
    list of (name, start, stop)
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


#: Blocks whose name starts with these get an entity embedding per column,
#: or a recurrent branch over padded sequences, instead of a Dense branch.
EMBEDDED_PREFIX = "embedded"
SEQUENCE_PREFIX = "sequence"


def _block_kind(name):
    if name.startswith(EMBEDDED_PREFIX):
        return "embedded"
    if name.startswith(SEQUENCE_PREFIX):
        return "sequence"
    return "dense"


class ChainRegressor(EpochCallbacksMixin, CompiledModelMixin, KerasRegressor):
    """Regressor on the features of a chain: one branch per input block.

    A :class:`scikeras.wrappers.KerasRegressor` whose default network takes
    the output of the chain's ``ColumnTransformer``, gives each block of
    columns (``representation``, ``categorical``, ``numeric``, recognised by
    the ``"<block>__"`` prefix of the column names) its own Dense branch,
    concatenates the branches and ends in ``hidden_units`` Dense layers and a
    linear output. Every size is a constructor parameter, so
    ``GridSearchCV`` can search it. A custom ``model=`` builder works as in
    scikeras and receives the whole feature matrix as one input (the block
    layout is in ``meta["input_blocks_"]``).

    Two kinds of block get other branches:

    * ``"embedded*"`` blocks hold integer codes, one column per categorical
      column, as ``OrdinalEncoder(unknown_value=-1,
      encoded_missing_value=-2)`` writes them (``make_chain``'s ``"embed"``
      encoding): each column gets its own learned ``Embedding`` (entity
      embeddings, Guo & Berkhahn, 2016), with a row for missing values and
      one for levels not seen in ``fit``; the embeddings are concatenated
      with the other branches. Read them back with
      :meth:`category_embeddings`.
    * ``"sequence*"`` blocks hold one padded sequence per row (a
      :class:`~skchain.SequencePadder`'s output): integer columns are token
      ids (``Embedding(mask_zero=True)`` then a GRU), float columns are
      values (``Masking(0.0)`` then a GRU), so padded steps do not count.

    Unlike scikeras 0.13's ``KerasRegressor`` it reports itself as a
    regressor to scikit-learn (``is_regressor`` is true, so ``cross_val_score``
    uses ``KFold`` and R²), validates and casts inputs to float32 once, and
    predicts through a compiled direct call instead of ``Model.predict``.

    Parameters
    ----------
    model : callable or keras.Model, default=None
        ``None`` builds the default network described above; otherwise as in
        scikeras.
    hidden_units : int or tuple of int, default=(64,)
        Widths of the Dense layers after the merge.
    branch_units : int or None, default=64
        Width of each block's Dense branch; ``None`` feeds the blocks to the
        merge unchanged.
    activation : str, default="relu"
        Activation of the branch and hidden layers.
    dropout : float, default=0.0
        Dropout rate after each hidden layer.
    learning_rate : float, default=1e-3
        Learning rate of the optimizer, when ``optimizer`` is given by name or
        class (an optimizer instance keeps its own).
    branch_per_block : bool, default=True
        If False, the default network treats all columns as one block.
    embedding_dim : int, dict or None, default=None
        Width of each entity embedding. ``None``: ``min(50, ceil(levels /
        2))`` per column; an int: that width for every column; a dict
        ``{column: width}`` (column names as given to the encoder, e.g.
        ``"city"``), the rule for columns it does not name.
    token_embedding_dim : int, default=16
        Width of the token embedding of integer sequence blocks.
    optimizer, loss, metrics, epochs, batch_size, validation_split, \
callbacks, random_state, verbose, shuffle, warm_start, run_eagerly, \
validation_batch_size, build_fn
        As in :class:`scikeras.wrappers.KerasRegressor`; ``optimizer``
        defaults to ``"adam"``, ``loss`` to ``"mse"``, ``epochs`` to 20,
        ``batch_size`` to 32 and ``verbose`` to 0.
    **kwargs
        Routed parameters (``model__*``, ``optimizer__*``, ``fit__*``, ...).

    Attributes
    ----------
    model_ : keras.Model
        The trained final network.
    input_blocks_ : list of (str, int, int)
        Name, first and past-the-last column of each input block.
    embedding_sizes_ : dict
        ``{feature name: (rows, width)}`` of each entity embedding (rows:
        the levels seen in ``fit`` plus the missing and unknown rows).
    sequence_blocks_ : dict
        ``{block: {"tokens": bool, "steps": int, "vocabulary": int}}`` of
        each sequence block.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when ``X`` had string column names.
    history_ : dict
        Loss and metrics per epoch.

    Examples
    --------
    >>> import numpy as np
    >>> from skchain import ChainRegressor
    >>> X = np.random.default_rng(0).normal(size=(64, 3))
    >>> y = X @ np.array([1.0, -2.0, 0.5])
    >>> reg = ChainRegressor(hidden_units=(8,), epochs=2, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    """

    def __init__(
        self,
        model=None,
        *,
        hidden_units: int | tuple[int, ...] = (64,),
        branch_units: int | None = 64,
        activation: str = "relu",
        dropout: float = 0.0,
        learning_rate: float | None = 1e-3,
        branch_per_block: bool = True,
        embedding_dim: int | dict[str, int] | None = None,
        token_embedding_dim: int = 16,
        build_fn=None,
        warm_start=False,
        random_state=None,
        optimizer="adam",
        loss="mse",
        metrics=None,
        batch_size=32,
        validation_batch_size=None,
        verbose=0,
        callbacks=None,
        validation_split=0.0,
        shuffle=True,
        run_eagerly=False,
        epochs=20,
        **kwargs,
    ):
        self.hidden_units = hidden_units
        self.branch_units = branch_units
        self.activation = activation
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.branch_per_block = branch_per_block
        self.embedding_dim = embedding_dim
        self.token_embedding_dim = token_embedding_dim
        super().__init__(
            model=model,
            build_fn=build_fn,
            warm_start=warm_start,
            random_state=random_state,
            optimizer=optimizer,
            loss=loss,
            metrics=metrics,
            batch_size=batch_size,
            validation_batch_size=validation_batch_size,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            shuffle=shuffle,
            run_eagerly=run_eagerly,
            epochs=epochs,
            **kwargs,
        )

    # ------------------------------------------------------------------ fit
    @with_callbacks
    def fit(self, X, y, sample_weight=None, **kwargs):
        """Train the final network on the chain's features.

        Callbacks set with ``set_callbacks`` (scikit-learn's callback API,
        e.g. ``sklearn.callback.ProgressBar``) see ``fit`` as a task and each
        epoch as a sub-task; one that returns True at an epoch's end stops
        training.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features; a DataFrame from a ``ColumnTransformer`` (with
            ``"<block>__"`` column names) gets one branch per block.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Continuous target(s).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-row weights.
        **kwargs
            Passed to ``keras.Model.fit`` (prefer ``fit__*`` parameters).

        Returns
        -------
        self : ChainRegressor
            The fitted regressor.
        """
        X, y = self._validate_training_data(X, y, reset=True, stage=f"{_STAGE} fit")
        self._fit_with_callbacks(
            lambda: KerasRegressor.fit(self, X, y, sample_weight=sample_weight, **kwargs), X, y
        )
        return self

    def partial_fit(self, X, y, sample_weight=None, **kwargs):
        """Train for one epoch, starting from the current weights.

        The first call builds the network as ``fit`` would; later calls must
        pass the same columns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
        **kwargs
            Passed to ``keras.Model.fit``.

        Returns
        -------
        self : ChainRegressor
        """
        first = not self.__sklearn_is_fitted__()
        X, y = self._validate_training_data(
            X, y, reset=first, stage=f"{_STAGE} partial_fit"
        )
        super().partial_fit(X, y, sample_weight=sample_weight, **kwargs)
        return self

    def _validate_training_data(self, X, y, reset, stage):
        self._check_hyperparameters()
        if y is None:
            raise ValueError(f"{stage}: requires y to be passed, but the target y is None")
        integer_columns = _integer_columns(X)
        X = validate_float32(self, X, reset=reset, stage=stage)
        try:
            y = check_array(
                y, ensure_2d=False, dtype=np.float32, input_name="y", order="C"
            )
            check_consistent_length(X, y)
        except ValueError as exc:
            raise ValueError(f"{stage}: {exc}") from exc
        if y.ndim == 2 and y.shape[1] == 0:
            raise ValueError(f"{stage}: y has no columns; expected at least one target")
        if reset:
            names = getattr(self, "feature_names_in_", None)
            if self._uses_default_network() and self.branch_per_block:
                self.input_blocks_ = input_blocks(names, X.shape[1])
            else:
                self.input_blocks_ = [("features", 0, X.shape[1])]
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
            kind = _block_kind(block)
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
        units = self.hidden_units
        units = (units,) if isinstance(units, numbers.Integral) else units
        if not all(isinstance(u, numbers.Integral) and u > 0 for u in units):
            raise ValueError(
                f"{_STAGE}: hidden_units={self.hidden_units!r}; expected a positive"
                " int or a tuple of positive ints"
            )
        if self.branch_units is not None and not (
            isinstance(self.branch_units, numbers.Integral) and self.branch_units > 0
        ):
            raise ValueError(
                f"{_STAGE}: branch_units={self.branch_units!r}; expected a positive"
                " int or None"
            )
        dims = self.embedding_dim
        dims = dims.values() if isinstance(dims, dict) else [] if dims is None else [dims]
        if not all(isinstance(d, numbers.Integral) and d > 0 for d in dims):
            raise ValueError(
                f"{_STAGE}: embedding_dim={self.embedding_dim!r}; expected None, a"
                " positive int or a dict of positive ints"
            )
        if not (isinstance(self.token_embedding_dim, numbers.Integral)
                and self.token_embedding_dim > 0):
            raise ValueError(
                f"{_STAGE}: token_embedding_dim={self.token_embedding_dim!r}; expected"
                " a positive int"
            )
        if not (isinstance(self.dropout, numbers.Real) and 0 <= self.dropout < 1):
            raise ValueError(
                f"{_STAGE}: dropout={self.dropout!r}; expected a float in [0, 1)"
            )

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
            raise ValueError(f"{_STAGE}: {detail}")
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
            elif _block_kind(name) == "embedded" and self.embedding_sizes_:
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
        outputs = dense(self.n_outputs_, "output", None)(x)
        network = keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs)
        network.compile(**compile_kwargs)
        return network

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
        check_fitted(self, _STAGE)
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
    def predict(self, X):
        """Predict the target for ``X`` with one compiled call per chunk of rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features with the columns seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs), dtype float32
        """
        check_fitted(self, _STAGE)
        X = validate_float32(self, X, reset=False, stage=f"{_STAGE} predict")
        return self._predict_validated(X)

    def _predict_validated(self, X):
        inputs = self.feature_encoder_.transform(X)
        inputs = inputs if isinstance(inputs, list) else [inputs]
        out = self._forward(("network",), lambda: self.model_)(inputs)
        if getattr(self, "y_ndim_", 2) == 1 and out.ndim == 2 and out.shape[1] == 1:
            return out[:, 0]
        return out

    def score(self, X, y, sample_weight=None):
        """R² of ``predict(X)`` against ``y``, as for any scikit-learn regressor.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        return RegressorMixin.score(self, X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # scikeras puts RegressorMixin after BaseEstimator in its bases, so
        # scikit-learn >= 1.6 never sees the regressor tags: set them here.
        tags.estimator_type = "regressor"
        tags.regressor_tags = RegressorTags()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.non_deterministic = False
        return tags
