"""The final stage of a chain for a continuous target: :class:`ChainRegressor`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

# Names the public signatures' annotations use are imported at run time (keras is loaded by
# scikeras anyway), so that typing.get_type_hints resolves them.
import keras  # noqa: E402
import numpy as np
from numpy.typing import ArrayLike  # noqa: E402
from sklearn.base import (
    RegressorMixin,
    TransformerMixin,  # noqa: E402
)
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils._tags import RegressorTags

from ._base import check_fitted
from ._heads import RegressionHead
from ._network import BlockNetworkMixin, _split_columns, input_blocks  # noqa: F401 (saved files)
from ._scikeras import KerasRegressor
from ._sklearn_decorators import with_callbacks
from ._target import fit_target_scaler, scaled_target
from ._validation import check_fit_arguments, validate_float32

if TYPE_CHECKING:
    from .blocks import Layout

__all__ = ["ChainRegressor"]

_STAGE = "ChainRegressor (final network)"


class ChainRegressor(RegressionHead, BlockNetworkMixin, KerasRegressor):
    """Regressor on the features of a chain: one branch per input block.

    A :class:`scikeras.wrappers.KerasRegressor` whose default network takes
    the output of the chain's ``ColumnTransformer``, gives each block of
    columns (the chain's :class:`~skchain.blocks.Layout`; fitted alone, the
    ``"<block>__"`` prefix of the column names) its own Dense branch,
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
    dropout : float, default=0.2
        Dropout rate after each hidden layer. 0.2 by measurement
        (``benchmarks/bench_accuracy.py --sweep passthrough``): with network A's inputs
        beside its representation (``make_chain``'s default), it kept the
        final network from over-fitting the extra columns (the demo's digits,
        674 rows: R² 0.859 without it, 0.894 with it).
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
    early_stopping : bool, default=False
        Stop training when the loss on validation rows has not improved by
        ``tol`` for ``n_iter_no_change`` epochs, and keep the best epoch's
        weights. The validation rows are drawn (shuffled, seeded by
        ``random_state``) from the rows passed to ``fit``, so inside a
        cross-validation they come from the training fold; ``fit(...,
        X_val=, y_val=)`` gives them explicitly instead.
    validation_fraction : float, default=0.1
        Share of the rows held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without improvement before training stops.
    tol : float, default=1e-4
        The improvement of the validation loss that counts.
    target_scaler : "standard", "auto", None or transformer, default="standard"
        How the target is scaled for training: ``"standard"`` standardises
        each output column with the mean and standard deviation of the
        training rows (weighted by ``sample_weight``); ``"auto"`` (network
        A's default, see :class:`KerasTransformer`) does the same when the
        loss is a regression loss or the target is not whole numbers, else
        leaves it as it is; any scikit-learn
        transformer with ``inverse_transform`` (e.g. ``QuantileTransformer``)
        is fitted instead; ``None`` trains on the raw target. Predictions are
        always in the target's own units: ``predict``, the compiled chain,
        ``to_keras`` and the exported models invert the scaling (only
        ``"standard"`` and ``None`` can be exported). The loss in
        ``history_`` (``val_loss`` too, watched by ``early_stopping``) is in
        the scaled units. Searchable.
    optimizer, loss, metrics, epochs, batch_size, validation_split, \
callbacks, random_state, verbose, shuffle, warm_start, run_eagerly, \
validation_batch_size, build_fn
        As in :class:`scikeras.wrappers.KerasRegressor`; ``optimizer``
        defaults to ``"adam"``, ``loss`` to ``"mse"``, ``epochs`` to 20,
        ``batch_size`` to 32 and ``verbose`` to 0.
        An optimizer instance is a template: each fit trains a new optimizer of
        its class and configuration, and the instance is never trained.
    **kwargs
        Routed parameters (``model__*``, ``optimizer__*``, ``fit__*``, ...).

    Attributes
    ----------
    model_ : keras.Model
        The trained final network (its outputs in the scaled units).
    target_scaler_ : transformer or None
        The target scaler fitted on the training rows.
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
        Loss and metrics per epoch (``val_loss`` too with validation rows).
    n_iter_ : int
        Epochs run in the last ``fit``.
    best_epoch_, stopped_epoch_ : int
        With ``early_stopping``: the epoch whose weights were kept and the
        last epoch run (from 1).

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
        model: keras.Model | Callable[..., keras.Model] | None = None,
        *,
        hidden_units: int | Sequence[int] = (64,),
        branch_units: int | None = 64,
        activation: str = "relu",
        dropout: float = 0.2,
        learning_rate: float | None = 1e-3,
        branch_per_block: bool = True,
        embedding_dim: int | dict[str, int] | None = None,
        token_embedding_dim: int = 16,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        target_scaler: Literal["standard", "auto"] | TransformerMixin | None = "standard",
        build_fn: Callable[..., keras.Model] | None = None,
        warm_start: bool = False,
        random_state: int | np.random.RandomState | None = None,
        optimizer: str | keras.optimizers.Optimizer | type[keras.optimizers.Optimizer] = "adam",
        loss: str | keras.losses.Loss | Callable[..., Any] = "mse",
        metrics: Any = None,
        batch_size: int | None = 32,
        validation_batch_size: int | None = None,
        verbose: int | Literal["auto"] = 0,
        callbacks: keras.callbacks.Callback | Sequence[keras.callbacks.Callback] | None = None,
        validation_split: float = 0.0,
        shuffle: bool = True,
        run_eagerly: bool = False,
        epochs: int = 20,
        **kwargs: Any,
    ) -> None:
        self.hidden_units = hidden_units
        self.branch_units = branch_units
        self.activation = activation
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.branch_per_block = branch_per_block
        self.embedding_dim = embedding_dim
        self.token_embedding_dim = token_embedding_dim
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.target_scaler = target_scaler
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

    _STAGE = _STAGE
    _FIT_INSTEAD: ClassVar[dict[str, str]] = {
        "class_weight": "a regressor has no classes; weigh the rows with sample_weight=",
    }

    # ------------------------------------------------------------------ fit
    @with_callbacks
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        X_val: ArrayLike | None = None,
        y_val: ArrayLike | None = None,
        layout: Layout | None = None,
        **kwargs: Any,
    ) -> Self:
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
            Per-row weights (a row of weight 0 is left out).
        X_val, y_val : array-like, default=None
            Validation rows with the columns of ``X``: their loss is
            recorded per epoch (``history_["val_loss"]``) and watched by
            ``early_stopping``.
        layout : Layout, default=None
            The blocks of the features step that made ``X`` (a
            :class:`~skchain.Chain` passes it): one branch per block. ``None``:
            the blocks are read from the column names.
        **kwargs
            Arguments of ``keras.Model.fit`` for this call only: ``callbacks``
            (Keras callbacks, run with the constructor's ``callbacks``, early
            stopping's and ``set_callbacks``'), and ``epochs``,
            ``batch_size``, ``validation_batch_size``, ``verbose`` and
            ``shuffle`` (in place of the constructor's values). Any other
            keyword is a ``TypeError`` that says where it goes instead:
            ``validation_data`` -> ``X_val``/``y_val``; ``class_weight`` ->
            ``sample_weight`` (a regressor has no classes);
            ``validation_split``, ``initial_epoch`` (``warm_start``) and
            ``validation_freq``, ``validation_steps``, ``steps_per_epoch`` ->
            constructor parameters (the last three as ``fit__<name>=``, which
            scikeras routes to ``keras.Model.fit`` with Keras' meaning; without
            them an epoch uses every row once). The counts among these
            arguments and the ``fit__`` ones must be positive ints (a batch size
            may be None or -1): else a ``ValueError`` naming the parameter.

        Returns
        -------
        self : ChainRegressor
            The fitted regressor.
        """
        stage = f"{_STAGE} fit"
        kwargs = check_fit_arguments(self, kwargs, stage)
        return self._fit_network(
            lambda X, y, w: KerasRegressor.fit(self, X, y, sample_weight=w, **kwargs),
            X,
            y,
            sample_weight,
            X_val,
            y_val,
            stage,
            layout,
        )

    def partial_fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None, **kwargs: Any
    ) -> Self:
        """Train for one epoch, starting from the current weights.

        The first call builds the network as ``fit`` would; later calls must
        pass the same columns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
        **kwargs
            As in :meth:`fit`, but ``epochs`` and ``validation_data`` are
            refused too (one epoch, no validation rows).

        Returns
        -------
        self : ChainRegressor
        """
        stage = f"{_STAGE} partial_fit"
        kwargs = check_fit_arguments(self, kwargs, stage, partial=True)
        first = not self.__sklearn_is_fitted__()
        X, y = self._validate_rows(X, y, sample_weight, reset=first, stage=stage)
        super().partial_fit(X, y, sample_weight=sample_weight, **kwargs)
        return self

    def _validate_target(self, X: Any, y: Any, stage: str) -> np.ndarray:
        try:
            y = check_array(y, ensure_2d=False, dtype=np.float32, input_name="y", order="C")
            check_consistent_length(X, y)
        except ValueError as exc:
            raise ValueError(f"{stage}: {exc}") from exc
        if y.ndim == 2 and y.shape[1] == 0:
            raise ValueError(f"{stage}: y has no columns; expected at least one target")
        return y

    def _fit_target_scaling(self, y: Any, sample_weight: Any, stage: str) -> None:
        self.target_scaler_ = fit_target_scaler(self.target_scaler, y, sample_weight, stage)

    def _training_target(self, y: Any) -> Any:
        return scaled_target(self.target_scaler_, y)

    # -------------------------------------------------------------- predict
    def predict(self, X: ArrayLike) -> np.ndarray:
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
        return self.outputs_to_predictions(self._network_outputs(X))

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
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

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # scikeras puts RegressorMixin after BaseEstimator in its bases, so
        # scikit-learn >= 1.6 never sees the regressor tags: set them here.
        tags.estimator_type = "regressor"
        tags.regressor_tags = RegressorTags()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.non_deterministic = False
        return tags
