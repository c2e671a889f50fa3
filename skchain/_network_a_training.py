"""Training network A: the input scaler on dataset A only, the target scaling, the fit.

:class:`NetworkATrainingMixin` is the part of :class:`~skchain.KerasTransformer`
that fits: it validates the parameters (declared once, in
``KerasTransformer._parameter_constraints``) and the rows, fits the input
scaler on dataset A's training rows, scales the target, trains the network
through scikeras (the next class in the method resolution order) and
records what the other parts read afterwards: ``output_layer_`` (the layer
resolved once per fit) and the summaries of dataset A.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_array, check_consistent_length

from ._base import as_float32_target, check_fitted, standard_scaling
from ._network_a_outputs import resolve_output_layer
from ._sklearn_decorators import with_callbacks
from ._target import fit_target_scaler, scaled_target
from ._validation import check_fit_arguments, check_sample_weight_length, validate_float32

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    # What the mixin is mixed into (scikeras is untyped: Any to mypy).
    from ._scikeras import BaseWrapper as _WrapperBase
else:
    _WrapperBase = object

__all__ = ["NetworkATrainingMixin", "apply_input_scaler", "make_input_scaler"]

_STAGE = "KerasTransformer (network A)"


def make_input_scaler(spec: Any) -> Any:
    """A new, unfitted input scaler for the ``scaler`` parameter ``spec``.

    Parameters
    ----------
    spec : "standard", None or transformer
        Validated by ``KerasTransformer._parameter_constraints``.

    Returns
    -------
    transformer or None
        A :class:`~sklearn.preprocessing.StandardScaler` for ``"standard"``,
        a clone of a transformer, None for None.
    """
    if spec is None:
        return None
    if isinstance(spec, str):
        return StandardScaler()
    return clone(spec)


def apply_input_scaler(scaler: Any, X: ArrayLike) -> np.ndarray:
    """``scaler.transform(X)`` as float32, for a scaler fitted on an array or a DataFrame.

    Parameters
    ----------
    scaler : fitted transformer
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_samples, n_features), dtype float32
    """
    names = getattr(scaler, "feature_names_in_", None)
    if names is not None and not hasattr(X, "columns"):
        # A scaler fitted on a DataFrame (from_model): give it the names it knows.
        X = pd.DataFrame(X, columns=names, copy=False)
    return np.asarray(scaler.transform(X), dtype=np.float32)


class NetworkATrainingMixin(_WrapperBase):
    """``fit`` of network A, and the input scaling every forward pass uses.

    Part of :class:`~skchain.KerasTransformer`; placed before scikeras'
    ``BaseWrapper`` in its bases, whose ``fit`` trains the network.
    """

    @with_callbacks
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        **kwargs: Any,
    ) -> Self:
        """Fit the input scaler on ``X`` and train network A on ``(X, y)``.

        Callbacks set with ``set_callbacks`` (scikit-learn's callback API)
        see ``fit`` as a task and each epoch as a sub-task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Dataset A's inputs. Cast to float32 once.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Dataset A's target, in the form network A's loss expects.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-row weights for network A's loss.
        **kwargs
            ``keras.Model.fit`` arguments for this call: ``callbacks`` (run
            with the constructor's), ``epochs``, ``batch_size``,
            ``validation_batch_size``, ``verbose``, ``shuffle``. Any other
            keyword is a ``TypeError`` that says which constructor parameter
            to set instead (``validation_data``, ``X_val``: ``validation_split``
            or ``early_stopping``; ``class_weight``: ``fit__class_weight``).

        Returns
        -------
        self : KerasTransformer
            The fitted transformer.

        Raises
        ------
        sklearn.utils._param_validation.InvalidParameterError
            A ``ValueError`` (and ``TypeError``) naming the parameter, the
            estimator and the values allowed, for a constructor parameter
            outside ``_parameter_constraints``.
        """
        stage = f"{_STAGE} fit"
        self._validate_params()
        kwargs = check_fit_arguments(self, kwargs, stage)
        rows = validate_float32(self, X, reset=True, stage=stage)
        y = self._validate_target(rows, y, stage)
        if sample_weight is not None:
            check_sample_weight_length(sample_weight, rows, stage)
        names = getattr(self, "feature_names_in_", None)
        scaler = make_input_scaler(self.scaler)
        X_scaled = rows if scaler is None else apply_input_scaler(scaler.fit(rows), rows)
        self.target_scaler_ = fit_target_scaler(
            self.target_scaler, y, sample_weight, stage, loss=self.loss
        )
        y_scaled = scaled_target(self.target_scaler_, y)
        self._clear_compiled()
        # Set when the network is built (before training); a warm start that
        # keeps the network resolves it after training.
        self.__dict__.pop("output_layer_", None)
        self._fit_with_callbacks(
            lambda: super(NetworkATrainingMixin, self).fit(
                X_scaled, y_scaled, sample_weight=sample_weight, **kwargs
            ),
            X_scaled,
            y_scaled,
        )
        # scikeras records the width it was given; ours is the raw width.
        self.n_features_in_ = rows.shape[1]
        if names is not None:
            self.feature_names_in_ = names
        self.scaler_ = scaler
        if "output_layer_" not in self.__dict__:
            self.output_layer_ = resolve_output_layer(self.model_, self.output_layer).name
        self.record_dataset_a(rows)
        return self

    def _build_keras_model(self) -> Any:
        # The layer choice is checked (and recorded) as soon as network A
        # exists, before training.
        model = super()._build_keras_model()
        self.output_layer_ = resolve_output_layer(model, self.output_layer).name
        return model

    def _validate_target(self, X: np.ndarray, y: Any, stage: str) -> np.ndarray:
        if y is None:
            raise ValueError(
                f"{stage}: requires y to be passed, but the target y is None;"
                " network A is trained with its own head and loss on (X_a, y_a)"
            )
        try:
            y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
            check_consistent_length(X, y)
        except ValueError as exc:
            raise ValueError(f"{stage}: {exc}") from exc
        if y.dtype.kind not in "fiub":
            try:
                y = y.astype(np.float32)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{stage}: Unknown label type: y has dtype {y.dtype}; network A"
                    " trains on numbers (encode class labels as integers first)"
                ) from None
        return as_float32_target(y)

    @property
    def fit_token(self) -> str | None:
        """An id of the network's current weights, new at every ``fit`` or ``from_model``.

        Caches of network A's outputs key on it (None before any fit).
        """
        return getattr(self, "_fit_token", None)

    def scaled_inputs(self, X: ArrayLike) -> np.ndarray:
        """Rows as network A's first layer sees them: its input scaler applied, float32.

        Parameters
        ----------
        X : ndarray of shape (n_samples, ``n_features_in_``), dtype float32
            Raw rows, validated, in network A's input order.

        Returns
        -------
        ndarray of shape (n_samples, ``n_features_in_``), dtype float32
        """
        check_fitted(self, _STAGE)
        if self.scaler_ is None:
            return np.asarray(X, np.float32)
        return apply_input_scaler(self.scaler_, X)

    def folded_scaling(self) -> dict[str, np.ndarray] | None:
        """The input scaler as constants a compiled call can fold in.

        Returns
        -------
        dict or None
            ``{"input_shift": ..., "input_scale": ...}`` (float32) for a
            :class:`~sklearn.preprocessing.StandardScaler`, ``{}`` without a
            scaler, ``None`` for another scaler (it must run as it is).
        """
        scaler = self.scaler_
        if scaler is None:
            return {}
        if type(scaler) is StandardScaler:
            shift, scale = standard_scaling(scaler, self.n_features_in_)
            return {"input_shift": shift, "input_scale": scale}
        return None
