"""Early stopping, scikit-learn's way, for the Keras-backed estimators.

As ``MLPRegressor`` and ``HistGradientBoosting*`` do it: ``early_stopping``,
``validation_fraction``, ``n_iter_no_change`` and ``tol`` are constructor
parameters, and the validation rows are drawn (shuffled, seeded by
``random_state``, stratified for classifiers) from the rows passed to
``fit``, so inside ``cross_val_score`` or ``GridSearchCV`` they come from the
training fold only. Keras' ``EarlyStopping`` watches ``val_loss`` and puts
back the weights of the best epoch. Explicit validation rows
(``fit(X, y, X_val=..., y_val=...)``) take the place of the drawn ones.
"""

import numbers
from typing import Any

import keras
import numpy as np
from numpy.typing import ArrayLike
from sklearn.model_selection import train_test_split

from ._callbacks import fit_callbacks_added

__all__ = [
    "EarlyStoppingMixin",
    "check_early_stopping",
    "early_stopper",
    "hold_out_validation",
    "kept_epoch",
    "split_validation_rows",
    "take_rows",
]


def check_early_stopping(estimator: Any, stage: str) -> None:
    """Check the four early-stopping parameters of ``estimator`` (any object holding them)."""
    if estimator.early_stopping not in (True, False):
        raise ValueError(
            f"{stage}: early_stopping={estimator.early_stopping!r}; expected True or False"
        )
    # numbers.Real declares no reflected comparisons (``0 < fraction``) in
    # typeshed: hence the ignores below.
    fraction = estimator.validation_fraction
    if not (isinstance(fraction, numbers.Real) and 0 < fraction < 1):  # type: ignore[operator]
        raise ValueError(f"{stage}: validation_fraction={fraction!r}; expected a float in (0, 1)")
    patience = estimator.n_iter_no_change
    integral = isinstance(patience, numbers.Integral) and not isinstance(patience, bool)
    if not (integral and patience > 0):
        raise ValueError(f"{stage}: n_iter_no_change={patience!r}; expected a positive int")
    tol = estimator.tol
    if not (isinstance(tol, numbers.Real) and tol >= 0):  # type: ignore[operator]
        raise ValueError(f"{stage}: tol={estimator.tol!r}; expected a float >= 0")


def split_validation_rows(
    n_rows: int, fraction: float, random_state: Any, strata: ArrayLike | None, stage: str
) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, validation)``: a shuffled, seeded, optionally stratified split.

    Stratification falls back to a plain shuffled split when a class has too
    few rows to appear on both sides.
    """
    n_validation = int(np.ceil(fraction * n_rows))
    if n_validation < 1 or n_rows - n_validation < 1:
        raise ValueError(
            f"{stage}: validation_fraction={fraction} of {n_rows} rows leaves no rows to"
            " train on or to validate with; pass more rows or early_stopping=False"
        )
    rows = np.arange(n_rows)
    try:
        return train_test_split(
            rows, test_size=n_validation, random_state=random_state, shuffle=True, stratify=strata
        )
    except ValueError:
        if strata is None:
            raise
        return train_test_split(
            rows, test_size=n_validation, random_state=random_state, shuffle=True
        )


def take_rows(data: Any, rows: ArrayLike) -> Any:
    """``data[rows]`` for an array, each array of a multi-input list, or ``None``."""
    if data is None:
        return None
    if isinstance(data, (list, tuple)):
        return [part[rows] for part in data]
    return data[rows]


def hold_out_validation(
    X: Any,
    y: Any,
    sample_weight: Any,
    fraction: float,
    random_state: Any,
    strata: ArrayLike | None,
    stage: str,
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Draw validation rows from the training rows (see :func:`split_validation_rows`).

    Returns
    -------
    ((X, y, sample_weight), validation_data)
        The rows left to train on, and Keras' ``validation_data`` tuple.
    """
    n_rows = len(X[0]) if isinstance(X, (list, tuple)) else len(X)
    train, held_out = split_validation_rows(n_rows, fraction, random_state, strata, stage)
    validation = tuple(
        take_rows(part, held_out) for part in (X, y, sample_weight) if part is not None
    )
    return tuple(take_rows(part, train) for part in (X, y, sample_weight)), validation


def early_stopper(settings: Any) -> keras.callbacks.EarlyStopping:
    """Keras' ``EarlyStopping`` for ``settings``' ``n_iter_no_change`` and ``tol``.

    The best weights are kept.
    """
    return keras.callbacks.EarlyStopping(
        monitor="val_loss",
        patience=int(settings.n_iter_no_change),
        min_delta=settings.tol,
        restore_best_weights=True,
    )


def kept_epoch(stopper: keras.callbacks.EarlyStopping) -> int | None:
    """The epoch (from 1) whose weights ``stopper`` kept, or None when it kept none."""
    return None if stopper.best_weights is None else int(stopper.best_epoch) + 1


class EarlyStoppingMixin:
    """Early stopping and validation rows for a scikeras wrapper (see the module docstring).

    The estimator defines ``early_stopping``, ``validation_fraction``,
    ``n_iter_no_change`` and ``tol``, and sets ``_validation_rows`` (validated
    ``(X, y)``, encoded here with the fitted ``feature_encoder_`` and
    ``target_encoder_``) for the duration of a ``fit`` given explicit
    validation rows. Classifiers override :meth:`_strata`.

    Fitted attributes: ``n_iter_`` (epochs run), and with early stopping
    ``best_epoch_`` (the epoch whose weights were kept, from 1) and
    ``stopped_epoch_`` (the last epoch run).
    """

    # The estimator's parameters and what scikeras sets in ``fit``.
    early_stopping: bool
    validation_fraction: float
    n_iter_no_change: int
    tol: float
    validation_split: float
    feature_encoder_: Any
    target_encoder_: Any
    history_: dict[str, list[float]]
    _random_state: Any
    _fit_callbacks: list[Any]
    n_iter_: int
    best_epoch_: int
    stopped_epoch_: int

    def _strata(self, y: Any) -> np.ndarray | None:
        """Labels to stratify the validation split by; ``None``: no stratification."""
        return None

    def _fit_keras_model(
        self,
        X: Any,
        y: Any,
        sample_weight: Any,
        warm_start: bool,
        epochs: int,
        initial_epoch: int,
        **kwargs: Any,
    ) -> Any:
        stage = getattr(self, "_STAGE", type(self).__name__)
        check_early_stopping(self, stage)
        validation = getattr(self, "_validation_rows", None)
        if validation is not None:
            X_val, y_val = validation
            validation = (
                self.feature_encoder_.transform(X_val),
                self.target_encoder_.transform(y_val),
            )
        split = getattr(self, "validation_split", 0)
        if self.early_stopping and split:
            raise ValueError(
                f"{stage}: early_stopping=True draws its own validation rows"
                f" (validation_fraction={self.validation_fraction}); leave"
                f" validation_split at 0 (got {self.validation_split})"
            )
        if validation is not None and split:
            raise ValueError(
                f"{stage}: validation rows were given (X_val, y_val), which Keras would use"
                f" in place of validation_split={self.validation_split}; leave it at 0"
            )
        if self.early_stopping and validation is None:
            (X, y, sample_weight), validation = hold_out_validation(
                X,
                y,
                sample_weight,
                self.validation_fraction,
                self._random_state,
                self._strata(y),
                stage,
            )
        if validation is not None:
            kwargs["validation_data"] = validation
        stopper = early_stopper(self) if self.early_stopping else None
        with fit_callbacks_added(self, [] if stopper is None else [stopper]):
            result = super()._fit_keras_model(  # type: ignore[misc]  # mixin: scikeras' method
                X,
                y,
                sample_weight=sample_weight,
                warm_start=warm_start,
                epochs=epochs,
                initial_epoch=initial_epoch,
                **kwargs,
            )
        self.n_iter_ = len(self.history_.get("loss", []))
        for name in ("best_epoch_", "stopped_epoch_"):
            self.__dict__.pop(name, None)
        if stopper is not None:
            self.stopped_epoch_ = self.n_iter_
            self.best_epoch_ = kept_epoch(stopper) or self.n_iter_
        return result
