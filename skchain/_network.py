"""The block-aware final network, shared by :class:`ChainRegressor` and :class:`ChainClassifier`.

The final network gives each block of the chain's features its own branch,
built by the block's class (:meth:`skchain.blocks.Block.branch`: Dense,
entity embeddings for embedded codes, a masked GRU for sequences),
concatenates them, and ends in ``hidden_units`` Dense layers and an output
layer that the regressor and the classifier each choose
(:meth:`BlockNetworkMixin._output_layer`). Inside a chain the blocks come
from the chain's :class:`~skchain.blocks.Layout` (``fit(..., layout=)``);
a final stage fitted alone reads them from the ``"<block>__<feature>"``
column names. Everything here is shared; the two estimators add their target
handling.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Self

import keras
import numpy as np
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import InvalidParameterError

from ._base import CompiledModelMixin, check_fitted, graph_inputs
from ._callbacks import EpochCallbacksMixin
from ._constraints import FINAL_NETWORK_CONSTRAINTS, named_error
from ._early_stopping import EarlyStoppingMixin
from ._seeding import KeptRandomStateMixin
from ._validation import as_pandas, check_sample_weight_length, validate_float32
from .blocks import block_class, blocks_from_names, input_blocks, layer_name
from .layers import EntityEmbedding

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .blocks import Layout

__all__ = ["BlockNetworkMixin", "input_blocks"]


def _integer_columns(X: Any) -> set[str]:
    """Names of a DataFrame's integer columns (token ids of sequence blocks)."""
    if not hasattr(X, "dtypes"):
        return set()
    return {str(name) for name, dtype in X.dtypes.items() if getattr(dtype, "kind", "O") in "iu"}


def _split_columns(X: np.ndarray, bounds: Sequence[tuple[int, int]]) -> list[np.ndarray]:
    return [X[:, start:stop] for start, stop in bounds]


class BlockNetworkMixin(
    EpochCallbacksMixin, KeptRandomStateMixin, EarlyStoppingMixin, CompiledModelMixin
):
    """What :class:`ChainRegressor` and :class:`ChainClassifier` share (see the module docstring).

    A subclass sets ``_STAGE``, validates its target in
    :meth:`_validate_target` and builds its output in :meth:`_output_layer`.
    """

    _STAGE = "final network"
    _parameter_constraints = FINAL_NETWORK_CONSTRAINTS

    #: Set at fit: the blocks' slices of the input columns, and their kinds.
    input_blocks_: list[tuple[str, int, int]]
    block_kinds_: dict[str, str]

    # ------------------------------------------------------------------ fit
    def _fit_network(
        self,
        fit: Callable[[np.ndarray, np.ndarray, ArrayLike | None], Any],
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None,
        X_val: ArrayLike | None,
        y_val: ArrayLike | None,
        stage: str,
        layout: Layout | None = None,
    ) -> Self:
        """Validate, then run scikeras' ``fit`` (``fit()``) with callbacks and validation rows."""
        X, y = self._validate_rows(X, y, sample_weight, reset=True, stage=stage, layout=layout)
        if (X_val is None) != (y_val is None):
            raise ValueError(f"{stage}: pass both X_val and y_val, or neither")
        if X_val is not None:
            rows_val = validate_float32(self, X_val, reset=False, stage=f"{stage} (X_val)")
            target_val = self._validate_target(rows_val, y_val, f"{stage} (y_val)")
            self._validation_rows = (rows_val, self._training_target(target_val))
        try:
            self._fit_with_callbacks(lambda: fit(X, y, sample_weight), X, y)
        finally:
            self.__dict__.pop("_validation_rows", None)
        return self

    def _validate_rows(
        self,
        X: Any,
        y: Any,
        sample_weight: ArrayLike | None,
        reset: bool,
        stage: str,
        layout: Layout | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_validate_training_data`, one weight per row of ``X``, and the target
        the network trains on (:meth:`_training_target`)."""
        X, y = self._validate_training_data(X, y, reset=reset, stage=stage, layout=layout)
        if sample_weight is not None:
            check_sample_weight_length(sample_weight, X, stage)
        if reset:
            self._fit_target_scaling(y, sample_weight, stage)
        return X, self._training_target(y)

    def _fit_target_scaling(
        self, y: np.ndarray, sample_weight: ArrayLike | None, stage: str
    ) -> None:
        """Fit what :meth:`_training_target` applies (a regressor's target scaler)."""

    def _training_target(self, y: np.ndarray) -> np.ndarray:
        """The validated target as the network trains on it (the regressor scales it)."""
        return y

    def _validate_training_data(
        self,
        X: Any,
        y: Any,
        reset: bool,
        stage: str,
        layout: Layout | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        try:
            self._validate_params()
        except InvalidParameterError as exc:
            raise named_error(exc, self.get_params(), self._STAGE) from None
        if y is None:
            raise ValueError(f"{stage}: requires y to be passed, but the target y is None")
        X = as_pandas(X, stage)
        integer_columns = _integer_columns(X)
        X = validate_float32(self, X, reset=reset, stage=stage)
        y = self._validate_target(X, y, stage)
        if reset:
            names = getattr(self, "feature_names_in_", None)
            if not (self._uses_default_network() and self.branch_per_block):
                self.input_blocks_, self.block_kinds_ = [("features", 0, X.shape[1])], {}
            elif layout is not None and layout.width == X.shape[1]:
                self.input_blocks_, self.block_kinds_ = layout.final_blocks()
            else:  # a final stage fitted outside a chain
                self.input_blocks_, self.block_kinds_ = blocks_from_names(names, X.shape[1])
            self._plan_branches(X, names, integer_columns, stage)
        self._clear_compiled()
        return X, y

    def _plan_branches(
        self, X: np.ndarray, names: Any, integer_columns: set[str], stage: str
    ) -> None:
        """What each block's branch needs from the training rows (embedding and sequence sizes)."""
        self.embedding_sizes_: dict[str, tuple[int, int]] = {}
        self.sequence_blocks_: dict[str, dict[str, Any]] = {}
        if not self._uses_default_network() or not self.branch_per_block:
            return
        for name, start, stop in self.input_blocks_:
            planned = block_class(self.block_kinds_.get(name)).plan_branch(
                self, X, name, start, stop, names, integer_columns, stage
            )
            for attribute, values in planned.items():
                getattr(self, attribute).update(values)

    def _uses_default_network(self) -> bool:
        return self.model is None and self.build_fn is None

    def random_seed(self) -> int | None:
        """The seed this fit resolved from ``random_state`` (None when unseeded).

        Fine-tuning seeds the joint training of network A and this network
        with it.

        Returns
        -------
        int or None
        """
        return self._random_state

    def validation_strata(self, y: np.ndarray) -> np.ndarray | None:
        """Labels to stratify validation rows drawn from the training rows by (None: none).

        Parameters
        ----------
        y : ndarray
            The target as the network trains on it.

        Returns
        -------
        ndarray or None
        """
        return self._strata(y)

    # -------------------------------------------------------------- network
    @property
    def feature_encoder(self) -> FunctionTransformer:
        """Splits the feature matrix into one array per input of the network."""
        if len(self.input_blocks_) == 1:
            return FunctionTransformer()
        bounds = [(start, stop) for _, start, stop in self.input_blocks_]
        return FunctionTransformer(_split_columns, kw_args={"bounds": bounds})

    def _build_keras_model(self) -> keras.Model:
        model = super()._build_keras_model()
        expected = [stop - start for _, start, stop in self.input_blocks_]
        inputs = graph_inputs(model, self._STAGE)
        got = [int(inp.shape[-1]) if inp.shape[-1] is not None else -1 for inp in inputs]
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

    def _check_model_param(self) -> Any:
        if self._uses_default_network():
            return self._build_default_network
        return super()._check_model_param()

    def _build_default_network(self, compile_kwargs: dict[str, Any]) -> keras.Model:
        units = self.hidden_units
        units = (units,) if isinstance(units, numbers.Integral) else tuple(units)
        # Seeds of their own for every initializer and dropout layer: Keras
        # would draw them from Python's global ``random``, which other threads
        # (a Dask worker's event loop, for one) may draw from meanwhile.
        seeds = np.random.default_rng(self._random_state)

        def seed() -> int | None:
            return None if self._random_state is None else int(seeds.integers(2**31 - 1))

        def dense(width: int, name: str, activation: Any) -> keras.layers.Dense:
            return keras.layers.Dense(
                width,
                activation=activation,
                name=name,
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed()),
            )

        inputs: list[Any] = []
        branches: list[Any] = []
        for name, start, stop in self.input_blocks_:
            inp = keras.Input((stop - start,), name=layer_name(name))
            inputs.append(inp)
            block = block_class(self.block_kinds_.get(name))
            branches.append(block.branch(self, name, inp, start, stop, seed, dense))
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

    def _output_layer(self) -> tuple[int, Any]:
        """``(units, activation)`` of the default network's output layer."""
        raise NotImplementedError

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
        tables: dict[str, np.ndarray] = {}
        for layer in self.model_.layers:
            if isinstance(layer, EntityEmbedding):
                start = next(
                    s
                    for name, s, _ in self.input_blocks_
                    if f"{layer_name(name)}_embeddings" == layer.name
                )
                names = getattr(self, "feature_names_in_", None)
                features = [
                    str(names[j]) if names is not None else f"x{j}"
                    for j in range(start, start + len(layer.tables))
                ]
                tables.update(zip(features, layer.embeddings(), strict=False))
        return tables

    def _get_compile_kwargs(self) -> dict[str, Any]:
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
    def _network_outputs(self, X: np.ndarray) -> np.ndarray:
        """The network's raw outputs for validated float32 features, one compiled call."""
        inputs = self.feature_encoder_.transform(X)
        inputs = inputs if isinstance(inputs, list) else [inputs]
        return self._forward(("network",), lambda: self.model_)(inputs)
