"""The final stage of a chain for a class label: :class:`ChainClassifier`."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Self

# Names the public signatures' annotations use are imported at run time (keras is loaded by
# scikeras anyway), so that typing.get_type_hints resolves them.
import keras  # noqa: E402
import numpy as np
from numpy.typing import ArrayLike  # noqa: E402
from sklearn.base import ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils._tags import ClassifierTags
from sklearn.utils.multiclass import type_of_target

from ._base import check_fitted
from ._heads import ClassificationHead
from ._network import BlockNetworkMixin
from ._scikeras import BaseWrapper, KerasClassifier
from ._sklearn_decorators import with_callbacks
from ._validation import check_fit_arguments, validate_float32
from ._weights import class_sample_weight

if TYPE_CHECKING:
    from .blocks import Layout

__all__ = ["ChainClassifier"]

_STAGE = "ChainClassifier (final network)"

#: Target types the classifier takes (scikit-learn's ``type_of_target``).
TARGET_TYPES = ("binary", "multiclass", "multilabel-indicator")


class ChainClassifier(ClassificationHead, BlockNetworkMixin, KerasClassifier):
    """Classifier on the features of a chain.

    The same block-aware network as :class:`ChainRegressor`.

    A :class:`scikeras.wrappers.KerasClassifier` with the network of
    :class:`ChainRegressor` (one branch per block of the chain's features:
    Dense, entity embeddings for embedded codes, a masked GRU for
    sequences; then ``hidden_units``), ending in

    * one sigmoid unit for a binary target (loss ``"binary_crossentropy"``),
    * a softmax over the classes for a multiclass target (loss
      ``"sparse_categorical_crossentropy"``),
    * one sigmoid unit per label for a multilabel target (a 2-D indicator
      ``y``; loss ``"binary_crossentropy"``),

    unless ``loss`` names another. Labels may be of any type scikit-learn
    accepts (strings, integers, booleans): ``classes_`` holds them, sorted,
    ``predict`` returns them with their type, and ``predict_proba`` has one
    column per class in ``classes_`` order. scikit-learn sees a classifier
    (``is_classifier``, ``StratifiedKFold``, accuracy as ``score``,
    ``predict_proba``/``decision_function`` for ``roc_auc`` and
    ``neg_log_loss``), and it predicts through a compiled direct call
    instead of ``Model.predict``.

    Parameters
    ----------
    model : callable or keras.Model, default=None
        ``None`` builds the default network described above; otherwise as in
        scikeras (the output must match the target: see above).
    hidden_units, branch_units, activation, dropout, learning_rate, \
branch_per_block, embedding_dim, token_embedding_dim
        As in :class:`ChainRegressor`.
    class_weight : None, "balanced" or dict, default=None
        Weights of the classes in the loss (multiplied into a copy of
        ``sample_weight``) as in scikit-learn: ``"balanced"`` weighs a class by
        ``total weight / (n_classes * class weight)``, rows counted by weight.
    early_stopping, validation_fraction, n_iter_no_change, tol
        As in :class:`ChainRegressor`; the validation rows are stratified by
        class.
    optimizer, loss, metrics, epochs, batch_size, validation_split, \
callbacks, random_state, verbose, shuffle, warm_start, run_eagerly, \
validation_batch_size, build_fn
        As in :class:`scikeras.wrappers.KerasClassifier`; ``optimizer``
        defaults to ``"adam"``, ``loss`` to ``None`` (chosen from the target,
        above), ``epochs`` to 20, ``batch_size`` to 32 and ``verbose`` to 0.
        An optimizer instance is a template: each fit trains a new optimizer of
        its class and configuration, and the instance is never trained.
    **kwargs
        Routed parameters (``model__*``, ``optimizer__*``, ``fit__*``, ...).

    Attributes
    ----------
    classes_ : ndarray
        The class labels (for a multilabel target: the label indices).
    n_classes_ : int
        Number of classes (or labels).
    target_type_ : str
        ``"binary"``, ``"multiclass"``, ``"multiclass-onehot"`` or
        ``"multilabel-indicator"``.
    model_, input_blocks_, embedding_sizes_, sequence_blocks_, history_, \
n_iter_, best_epoch_, stopped_epoch_, n_features_in_, feature_names_in_
        As in :class:`ChainRegressor`.

    Examples
    --------
    >>> import numpy as np
    >>> from skchain import ChainClassifier
    >>> X = np.random.default_rng(0).normal(size=(80, 3))
    >>> y = np.where(X[:, 0] > 0, "yes", "no")
    >>> clf = ChainClassifier(hidden_units=(8,), epochs=5, random_state=0).fit(X, y)
    >>> clf.classes_
    array(['no', 'yes'], dtype='<U3')
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _STAGE = _STAGE
    #: The classes seen in fit (set by scikeras' fit, or partial_fit's ``classes``).
    classes_: Any

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
        class_weight: Literal["balanced"] | Mapping[Any, float] | None = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        build_fn: Callable[..., keras.Model] | None = None,
        warm_start: bool = False,
        random_state: int | np.random.RandomState | None = None,
        optimizer: str | keras.optimizers.Optimizer | type[keras.optimizers.Optimizer] = "adam",
        loss: str | keras.losses.Loss | Callable[..., Any] | None = None,
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
            class_weight=class_weight,
            **kwargs,
        )

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
        """Train the final network on the chain's features and class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features; a DataFrame from a ``ColumnTransformer`` (with
            ``"<block>__"`` column names) gets one branch per block.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 2-D 0/1 indicator matrix for multilabel.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-row weights (multiplied by ``class_weight``'s).
        X_val, y_val : array-like, default=None
            Validation rows: their loss is recorded per epoch and watched by
            ``early_stopping``.
        layout : Layout, default=None
            As in :meth:`ChainRegressor.fit`.
        **kwargs
            ``keras.Model.fit`` arguments for this call, as in
            :meth:`ChainRegressor.fit`: ``callbacks`` (run with the
            constructor's), ``epochs``, ``batch_size``, ``validation_batch_size``,
            ``verbose``, ``shuffle``. Any other keyword is a ``TypeError`` that
            says where it goes: ``validation_data`` -> ``X_val``/``y_val``;
            ``class_weight`` and the others -> constructor parameters.

        Returns
        -------
        self : ChainClassifier
        """
        stage = f"{_STAGE} fit"
        kwargs = check_fit_arguments(self, kwargs, stage)

        def fit(
            X: Any, y: Any, w: Any
        ) -> None:  # KerasClassifier.fit, weighing a copy of w (it weighs w in place)
            self.classes_ = None
            w = class_sample_weight(self.class_weight, y, w)
            BaseWrapper.fit(self, X, y, sample_weight=w, **kwargs)

        return self._fit_network(fit, X, y, sample_weight, X_val, y_val, stage, layout)

    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        classes: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
        **kwargs: Any,
    ) -> Self:
        """Train for one epoch, starting from the current weights.

        The first call builds the network as ``fit`` would (give ``classes``
        when the first rows do not hold every class); later calls must pass
        the same columns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like, default=None
            Every class, on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
        **kwargs
            As in :meth:`fit`, but ``epochs`` and ``validation_data`` are
            refused too (one epoch, no validation rows).

        Returns
        -------
        self : ChainClassifier
        """
        stage = f"{_STAGE} partial_fit"
        kwargs = check_fit_arguments(self, kwargs, stage, partial=True)
        first = not self.__sklearn_is_fitted__()
        X, y = self._validate_rows(X, y, sample_weight, reset=first, stage=stage)
        self.classes_ = classes if classes is not None else getattr(self, "classes_", None)
        weights = class_sample_weight(self.class_weight, y, sample_weight)
        BaseWrapper.partial_fit(self, X, y, sample_weight=weights, **kwargs)
        return self

    def _validate_target(self, X: Any, y: Any, stage: str) -> np.ndarray:
        try:
            y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
            check_consistent_length(X, y)
        except ValueError as exc:
            raise ValueError(f"{stage}: {exc}") from exc
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it is used"
                f" as y.ravel() ({stage})",
                DataConversionWarning,
                stacklevel=3,
            )
            y = y.ravel()
        kind = type_of_target(y, input_name="y")
        if kind not in TARGET_TYPES:
            hint = " (use ChainRegressor for a continuous target)" if "continuous" in kind else ""
            raise ValueError(
                f"{stage}: Unknown label type: y is {kind!r}{hint}; expected class labels"
                " (binary or multiclass) or a 2-D 0/1 indicator matrix (multilabel)"
            )
        return y

    def _get_compile_kwargs(self) -> dict[str, Any]:
        kwargs = super()._get_compile_kwargs()
        if kwargs.get("loss") is None:
            kwargs["loss"] = (
                "sparse_categorical_crossentropy"
                if self.target_type_ == "multiclass"
                else "categorical_crossentropy"
                if self.target_type_ == "multiclass-onehot"
                else "binary_crossentropy"
            )
        return kwargs

    # -------------------------------------------------------------- predict
    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities for ``X``, one column per class in ``classes_`` order.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes), dtype float32
            For a multilabel target, the probability of each label.
        """
        check_fitted(self, _STAGE)
        X = validate_float32(self, X, reset=False, stage=f"{_STAGE} predict_proba")
        return self.outputs_to_proba(self._network_outputs(X))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Class labels for ``X`` (the most probable class; labels above 0.5 for multilabel).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_labels)
            Labels of the type seen in ``fit``.
        """
        check_fitted(self, _STAGE)
        X = validate_float32(self, X, reset=False, stage=f"{_STAGE} predict")
        return self.outputs_to_predictions(self._network_outputs(X))

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """Log-odds of the positive class (binary), else log-probabilities per class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        proba = np.clip(self.predict_proba(X).astype(np.float64), 1e-12, 1 - 1e-12)
        if self.target_type_ == "binary":
            return np.log(proba[:, 1]) - np.log(proba[:, 0])
        if self.target_type_ == "multilabel-indicator":
            return np.log(proba) - np.log1p(-proba)
        return np.log(proba)

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """Accuracy of ``predict(X)`` against ``y``, as for any scikit-learn classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        return ClassifierMixin.score(self, X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # As for ChainRegressor: scikeras' base order hides ClassifierMixin's tags.
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags(multi_label=True)
        tags.target_tags.required = True
        tags.non_deterministic = False
        return tags
