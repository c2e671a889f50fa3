"""Warnings for the two costliest mistakes of chaining networks.

* **Distribution shift**: dataset B's A-like columns unlike the rows network A
  was trained on. :class:`InputStatistics` summarises A's training inputs in
  memory independent of the row count; :func:`shift_report` compares a batch
  with it.
* **Leakage**: rows of dataset A reused in dataset B. :class:`RowFingerprints`
  keeps a 64-bit hash per distinct training row (8 bytes a row) and counts
  the rows of B that match.
"""

import warnings

import numpy as np
import pandas as pd

__all__ = [
    "DataLeakageWarning",
    "DataShiftWarning",
    "InputStatistics",
    "RowFingerprints",
    "shift_report",
]

#: Quantiles kept per feature.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)

# Batches at least this large are compared by their moments; smaller ones
# are too noisy for that and only checked value by value against A's range.
MIN_ROWS_FOR_MOMENTS = 30

# Moments of larger batches are estimated on an evenly strided sample of about
# this many rows, which keeps the check at a small fraction of the forward pass.
SAMPLE_ROWS = 4096


class DataShiftWarning(UserWarning):
    """Network A's inputs in this batch are far from what it was trained on.

    Raised (as a warning) by ``transform`` and a chain's ``predict`` when
    ``shift_check="warn"``; ``shift_check="raise"`` makes it an error.

    Examples
    --------
    >>> import warnings
    >>> from skchain import DataShiftWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", DataShiftWarning)  # fail loudly in a service
    ...     pass
    """


class DataLeakageWarning(UserWarning):
    """Rows network A was trained on reappear in the data fitted downstream.

    Raised (as a warning) by a chain's ``fit`` when ``leakage_check="warn"``;
    their representation is over-fitted, so validation scores are optimistic.

    Examples
    --------
    >>> import warnings
    >>> from skchain import DataLeakageWarning
    >>> warnings.simplefilter("error", DataLeakageWarning)  # doctest: +SKIP
    >>> chain.fit(df_b, y_b)  # doctest: +SKIP
    Traceback (most recent call last):
    DataLeakageWarning: FrozenTransformer (frozen network A) fit: 22 of 200 rows ...
    """


class InputStatistics:
    """Per-feature summary of network A's training inputs.

    Memory is ``O(n_features)``: mean, standard deviation, the quantiles in
    :data:`QUANTILES`, minimum and maximum, in float64.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Network A's raw (unscaled) training inputs.
    """

    def __init__(self, X):
        X = np.asarray(X, dtype=np.float64)
        self.n_samples = X.shape[0]
        self.mean = X.mean(axis=0)
        self.std = X.std(axis=0)
        self.quantiles = np.quantile(X, QUANTILES, axis=0)
        self.min = X.min(axis=0)
        self.max = X.max(axis=0)

        positive = self.std[self.std > 0]
        typical = float(np.median(positive)) if positive.size else 1.0
        # Features that are constant (or nearly) in dataset A, such as blank
        # border pixels, get this much spread, so that a batch that is also
        # constant there, or varies by a hair, does not count as shifted.
        self.floor = 0.05 * typical

    def compare(self, X):
        """Scores of a batch against these statistics (see :func:`shift_report`).

        Parameters
        ----------
        X : ndarray of shape (n_rows, n_features), float32

        Returns
        -------
        dict of ndarray of shape (n_features,)
            ``score``, ``mean_shift``, ``scale_ratio``, ``out_of_range``.
        """
        n_rows = X.shape[0]
        spread = np.sqrt(self.std**2 + self.floor**2)
        span = np.maximum(self.max - self.min, spread)
        low = (self.min - 0.5 * span).astype(np.float32)
        high = (self.max + 0.5 * span).astype(np.float32)
        if n_rows < MIN_ROWS_FOR_MOMENTS:
            outside = ((X < low) | (X > high)).mean(axis=0)
            nan = np.full(X.shape[1], np.nan)
            # Too few rows to judge a distribution: a value far outside
            # anything seen in training scores by how far out it is.
            far = np.maximum(low - X.min(axis=0), X.max(axis=0) - high) / span
            return {
                "score": np.where(outside > 0, 1.0 + np.maximum(far, 0), 0.0),
                "mean_shift": nan,
                "scale_ratio": nan,
                "out_of_range": outside,
            }
        sample = np.ascontiguousarray(X[:: max(1, n_rows // SAMPLE_ROWS)])
        mean = sample.mean(axis=0, dtype=np.float64)
        std = sample.std(axis=0, dtype=np.float64)
        mean_shift = (mean - self.mean) / spread
        scale_ratio = np.sqrt(std**2 + self.floor**2) / spread
        outside = ((sample < low) | (sample > high)).mean(axis=0)
        score = np.abs(mean_shift) + np.abs(np.log2(scale_ratio)) + 10 * outside
        return {
            "score": score,
            "mean_shift": mean_shift,
            "scale_ratio": scale_ratio,
            "out_of_range": outside,
        }


def shift_report(statistics, X, feature_names=None):
    """Per-feature shift of a batch from network A's training inputs, worst first.

    Parameters
    ----------
    statistics : InputStatistics
        Recorded when network A was fitted.
    X : ndarray of shape (n_rows, n_features)
        The batch, raw (unscaled), in network A's column order.
    feature_names : list of str, default=None
        Names for the rows of the report.

    Returns
    -------
    pandas.DataFrame
        Columns ``feature``, ``score``, ``mean_shift`` (difference of means in
        units of A's standard deviation), ``scale_ratio`` (standard deviation
        of the batch over A's), ``out_of_range`` (fraction of values more than
        half of A's range outside it). Standard deviations have a floor of 5%
        of A's median feature standard deviation, so features constant in A
        are judged on that scale. ``score`` is
        ``|mean_shift| + |log2(scale_ratio)| + 10 * out_of_range``; for
        batches under 30 rows only the range is judged.
    """
    X = np.asarray(X, dtype=np.float32)
    scores = statistics.compare(X)
    names = feature_names if feature_names is not None else [f"x{i}" for i in range(X.shape[1])]
    report = pd.DataFrame({"feature": [str(n) for n in names], **scores})
    return report.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


def check_shift(statistics, X, *, mode, threshold, feature_names, stage):
    """Warn (or raise) when some feature's score exceeds ``threshold``."""
    if mode == "off" or statistics is None or X.shape[0] == 0:
        return
    scores = statistics.compare(X)["score"]
    worst = np.argsort(-scores)[:5]
    worst = [i for i in worst if scores[i] > threshold]
    if not worst:
        return
    names = feature_names if feature_names is not None else [f"x{i}" for i in range(X.shape[1])]
    listed = ", ".join(f"{names[i]!s} ({scores[i]:.2f})" for i in worst)
    n_bad = int(np.sum(scores > threshold))
    message = (
        f"{stage}: {n_bad} of {X.shape[1]} input features are far from"
        f" network A's training data (score > {threshold}); worst: {listed}."
        " Network A's representation may not be reliable for these rows;"
        " see shift_report(X)."
    )
    if mode == "raise":
        raise ValueError(message)
    warnings.warn(message, DataShiftWarning, stacklevel=4)


class RowFingerprints:
    """Sorted 64-bit hashes of network A's training rows (8 bytes a distinct row).

    Rows are hashed after the cast to float32 with pandas' vectorised row
    hashing (``pandas.util.hash_pandas_object``), so a row of B matches when
    it holds the same float32 values in the same columns.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32
    """

    def __init__(self, X):
        self.hashes = np.unique(self.hash_rows(X))

    @staticmethod
    def hash_rows(X):
        """One uint64 per row."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        return pd.util.hash_pandas_object(pd.DataFrame(X), index=False).to_numpy()

    @property
    def nbytes(self):
        """Memory held by the fingerprints."""
        return self.hashes.nbytes

    def count_matches(self, X):
        """Number of rows of ``X`` whose fingerprint is among A's."""
        if X.shape[0] == 0 or self.hashes.size == 0:
            return 0
        return int(np.isin(self.hash_rows(X), self.hashes, assume_unique=False).sum())


def check_leakage(fingerprints, X, *, mode, threshold, stage):
    """Warn (or raise) when more than ``threshold`` of the rows of ``X`` are A's."""
    if mode == "off" or fingerprints is None:
        return
    matches = fingerprints.count_matches(X)
    if matches == 0 or matches / X.shape[0] <= threshold:
        return
    message = (
        f"{stage}: {matches} of {X.shape[0]} rows ({matches / X.shape[0]:.1%}) fitted"
        " here are rows network A was trained on. Their representation is"
        " over-fitted, so the chain's validation scores will be optimistic. Remove"
        " dataset A's rows from dataset B (or train network A without them)."
    )
    if mode == "raise":
        raise ValueError(message)
    warnings.warn(message, DataLeakageWarning, stacklevel=4)
