"""What network A records about dataset A at fit, and the checks that compare with it.

:class:`DatasetAChecksMixin` is the part of :class:`~skchain.KerasTransformer`
behind the shift check (``shift_check``, :meth:`shift_report`) and the leakage
check (``leakage_check``, :meth:`leakage_report`). At fit (or ``from_model``
with ``training_rows``) :meth:`record_dataset_a` summarises the training
rows: ``input_statistics_``, ``representation_statistics_`` and
``training_fingerprints_``; the tests themselves live in
:mod:`skchain.diagnostics` and :mod:`skchain.leakage`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from ._base import check_fitted
from ._validation import input_names, validate_float32
from .adaptation import InputMoments
from .diagnostics import InputStatistics, check_shift, representation_statistics, shift_report
from .leakage import RowFingerprints, check_leakage, leakage_report

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import ArrayLike

    # What the mixin is mixed into (scikeras is untyped: Any to mypy).
    from ._scikeras import BaseWrapper as _WrapperBase
else:
    _WrapperBase = object

__all__ = ["DatasetAChecksMixin"]

_STAGE = "KerasTransformer (network A)"


class DatasetAChecksMixin(_WrapperBase):
    """Summaries of dataset A recorded at fit, and the shift and leakage checks against them.

    Part of :class:`~skchain.KerasTransformer`; needs ``model_``,
    ``output_layer_`` and the layer outputs of ``LayerOutputsMixin``.
    """

    def record_dataset_a(self, X: np.ndarray) -> Self:
        """Record the summaries of network A's training rows the checks compare with.

        Sets ``input_statistics_``, ``representation_statistics_`` (network
        A's outputs on the rows, per layer it can output),
        ``training_fingerprints_`` and ``input_moments_`` (the moments of the
        scaled rows, for ``FrozenTransformer(adapt=...)``).

        Parameters
        ----------
        X : ndarray of shape (n_samples, ``n_features_in_``), dtype float32
            Network A's raw (unscaled) training rows, validated.

        Returns
        -------
        self
        """
        self.input_statistics_ = InputStatistics(X)
        self.representation_statistics_ = representation_statistics(self, X)
        self.training_fingerprints_ = RowFingerprints(X)
        self.input_moments_ = InputMoments(self.scaled_inputs(X))
        return self

    def _input_names(self) -> list[str] | None:
        return input_names(self) if getattr(self, "feature_names_in_", None) is not None else None

    def check_shift(
        self,
        X: np.ndarray,
        stage: str = _STAGE,
        feature_names: Sequence[str] | None = None,
        outputs: np.ndarray | None = None,
        layer: str | None = None,
    ) -> None:
        """Apply ``shift_check`` to validated raw rows (used by ``transform``).

        Parameters
        ----------
        X : ndarray of shape (n_samples, ``n_features_in_``), float32
        stage : str
            The stage to name in the warning.
        feature_names : list of str, default=None
            Names to quote; default: the names seen in ``fit``, else ``x<i>``.
        outputs : ndarray of shape (n_samples, width), default=None
            Network A's outputs for ``X`` at ``layer``: tested too against
            its outputs on the training rows, when those were recorded.
        layer : str, default=None
            The layer ``outputs`` come from.

        Raises
        ------
        ValueError
            With ``shift_check="raise"``, when the rows are unlike dataset A's.

        Notes
        -----
        A network A adapted by ``FrozenTransformer(adapt=...)`` keeps the
        summaries of the rows it was adapted to (``adapted_to_`` set): the
        check then compares new rows, and the adapted network's outputs for
        them, with those rows, with the same tests and false-alarm rate.
        """
        check_shift(
            getattr(self, "input_statistics_", None),
            X,
            mode=self.shift_check,
            adapted=getattr(self, "adapted_to_", None) is not None,
            alpha=self.shift_alpha,
            feature_names=feature_names or self._input_names(),
            stage=stage,
            outputs=outputs,
            layer=layer,
            output_statistics=getattr(self, "representation_statistics_", {}).get(layer),
        )

    def check_leakage(self, X: np.ndarray, stage: str = _STAGE) -> None:
        """Apply ``leakage_check`` to validated raw rows (used by a chain's ``fit``).

        Parameters
        ----------
        X : ndarray of shape (n_samples, ``n_features_in_``), float32
        stage : str
            The stage to name in the warning.

        Raises
        ------
        ValueError
            With ``leakage_check="raise"``, when more rows hold dataset A's
            training rows than chance explains.
        """
        check_leakage(
            getattr(self, "training_fingerprints_", None),
            X,
            mode=self.leakage_check,
            alpha=self.leakage_alpha,
            threshold=self.leakage_threshold,
            stage=stage,
        )

    def leakage_report(self, X: ArrayLike) -> pd.DataFrame:
        """The rows of ``X`` that hold exactly the values of a row network A was trained on.

        Parameters
        ----------
        X : array-like of shape (n_samples, ``n_features_in_``)
            Rows with network A's input columns.

        Returns
        -------
        pandas.DataFrame
            ``row`` (position in ``X``, from 0) and ``rows_of_a`` (how many of
            A's training rows hold those values), one line per matching row;
            ``attrs["test"]`` holds :func:`skchain.leakage.leakage_test`'s
            result (matched, expected by chance, p-value).

        Raises
        ------
        ValueError
            When no training rows were recorded (``from_model`` without
            ``training_rows``), or ``X`` has the wrong columns.
        """
        X, fingerprints = self._against_dataset_a(
            X, "leakage_report", "training_fingerprints_", "no training rows recorded"
        )
        return leakage_report(fingerprints, X)

    def _against_dataset_a(
        self, X: Any, method: str, summary: str, missing: str
    ) -> tuple[np.ndarray, Any]:
        """``X`` validated for ``method``, and the fitted summary of dataset A it is compared to."""
        check_fitted(self, _STAGE)
        X = validate_float32(self, X, reset=False, stage=f"{_STAGE} {method}")
        found = getattr(self, summary, None)
        if found is None:
            raise ValueError(
                f"{_STAGE}: {missing}; wrap the network with"
                " from_model(..., training_rows=X_a) to compare with dataset A"
            )
        return X, found

    def shift_report(
        self,
        X: ArrayLike,
        feature_names: Sequence[str] | None = None,
        output_layer: str | None = None,
    ) -> pd.DataFrame:
        """Drift tests of ``X`` against network A's training data, per feature, worst first.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        feature_names : list of str, default=None
            Names for the report; default: the names seen in ``fit``, else
            ``x<i>``.
        output_layer : str, default=None
            Layer whose outputs are tested too; ``None`` means
            ``output_layer_``.

        Returns
        -------
        pandas.DataFrame
            One row per input feature and per output of the layer, worst
            first: ``level``, ``feature``, ``test``, ``statistic``,
            ``p_value``, ``adjusted_p`` (the batch is reported when one is at
            most ``shift_alpha``), ``mean_shift``, ``scale_ratio``,
            ``out_of_range`` (see :func:`skchain.diagnostics.shift_report`).

        Raises
        ------
        ValueError
            When no training statistics were recorded (``from_model``
            without ``training_rows``), or ``X`` has the wrong columns.
        """
        X, statistics = self._against_dataset_a(
            X, "shift_report", "input_statistics_", "no training statistics"
        )
        names = feature_names or input_names(self)
        layer = self.layer(output_layer).name
        output_statistics = getattr(self, "representation_statistics_", {}).get(layer)
        outputs = None if output_statistics is None else self.representation(X, layer)
        return shift_report(
            statistics, X, names, outputs=outputs, output_statistics=output_statistics, layer=layer
        )
