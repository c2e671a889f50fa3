"""Leakage: rows of dataset A reused in dataset B, as a test with a known false-alarm rate.

Network A's representation of a row it was trained on is over-fitted, so a
chain validated on such rows looks better than it is. Finding them is a
matter of equal values; but with coarse or discrete features (carats to two
decimals, 17 grey levels of a pixel) *different* records often hold equal
values by chance. The check is therefore a test, not a count:

* at ``fit`` :class:`RowFingerprints` keeps a 64-bit hash per distinct
  training row of A and how many rows hold it (12 bytes a distinct row), and
  A's own **leave-one-out repeat rate** ``r``: the share of A's rows that equal
  another row of A. If B's rows are new draws from A's distribution, a row of
  B equals some row of A with about that probability;
* a batch of ``n`` rows of B in which ``k`` equal a row of A is compared with
  A's ``c`` repeated rows of ``n_A`` by the one-sided Fisher exact test
  (hypergeometric tail ``P(K >= k)``), which counts the error of the
  estimate ``r`` too -- with A counted as fewer rows by the design effect of
  its groups of equal rows (:attr:`RowFingerprints.design_effect`), which make
  ``r`` noisier than a binomial share.
  :func:`check_leakage` warns when ``p <= leakage_alpha``.

Under "B's rows are exchangeable with A's" (independent draws from one
distribution, in any order) the test rejects at most ``leakage_alpha`` of the
time; ``benchmarks/bench_diagnostics.py`` measures the false-alarm rate and the
power on coarse real features (diamonds), digits and continuous data.
"""

from typing import Any, Literal, TypedDict

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from ._user_frame import warn_at_user

__all__ = [
    "DataLeakageWarning",
    "RowFingerprints",
    "check_leakage",
    "leakage_report",
    "leakage_test",
]


class LeakageTestResult(TypedDict):
    """What :func:`leakage_test` returns (see there)."""

    matched: int
    n_rows: int
    expected: float
    repeat_rate: float
    p_value: float


class DataLeakageWarning(UserWarning):
    """Rows of dataset B hold the values of network A's training rows more often than chance.

    Raised (as a warning) by a chain's ``fit`` when ``leakage_check="warn"``
    and the leakage test (:func:`skchain.leakage.leakage_test`) rejects at
    ``leakage_alpha``: the representation of rows network A was trained on is
    over-fitted, so validation scores are optimistic.

    Examples
    --------
    >>> import warnings
    >>> from skchain import DataLeakageWarning
    >>> warnings.simplefilter("error", DataLeakageWarning)  # doctest: +SKIP
    >>> chain.fit(df_b, y_b)  # doctest: +SKIP
    Traceback (most recent call last):
    DataLeakageWarning: FrozenTransformer (frozen network A) fit: 22 of 200 rows ...
    """


class RowFingerprints:
    """Hashes of network A's distinct training rows, their counts and A's repeat rate.

    Rows are hashed after the cast to float32 with pandas' vectorised row
    hashing (``pandas.util.hash_pandas_object``), so a row of B matches when
    it holds the same float32 values in the same columns.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Network A's raw training rows (cast to float32).

    Attributes
    ----------
    hashes : ndarray of shape (n_distinct,), dtype uint64
        Sorted.
    counts : ndarray of shape (n_distinct,), dtype uint32
        Rows of A holding each hash.
    n_rows : int
        Rows of A.
    n_repeated : int
        Rows of A that equal at least one other row of A.

    Examples
    --------
    >>> import numpy as np
    >>> from skchain.leakage import RowFingerprints
    >>> fp = RowFingerprints(np.array([[1.0, 2.0], [1.0, 2.0], [3.0, 4.0]]))
    >>> fp.n_rows, fp.n_repeated, fp.matches(np.array([[3.0, 4.0], [5.0, 6.0]])).tolist()
    (3, 2, [1, 0])
    """

    def __init__(self, X: ArrayLike) -> None:
        hashes, counts = np.unique(self.hash_rows(X), return_counts=True)
        self.hashes = hashes
        self.counts = counts.astype(np.uint32)
        self.n_rows = int(counts.sum())
        self.n_repeated = int(counts[counts > 1].sum())

    @staticmethod
    def hash_rows(X: ArrayLike) -> np.ndarray:
        """One uint64 per row (rows flattened: a sequence is one row)."""
        X = np.asarray(X, dtype=np.float32)
        X = np.ascontiguousarray(X.reshape(X.shape[0], -1))
        return pd.util.hash_pandas_object(pd.DataFrame(X), index=False).to_numpy()

    @property
    def nbytes(self) -> int:
        """Memory held by the fingerprints."""
        return self.hashes.nbytes + self.counts.nbytes

    @property
    def repeat_rate(self) -> float:
        """Share of A's rows that equal another row of A (leave-one-out)."""
        return self.n_repeated / self.n_rows if self.n_rows else 0.0

    @property
    def design_effect(self) -> float:
        """Row-weighted mean size of A's groups of equal rows (1 when none repeats).

        The variance of A's repeat count is about this many times a binomial
        one (cluster sampling with whole groups: Kish 1965), so the test counts
        A as ``n_rows / design_effect`` rows.
        """
        groups = self.counts[self.counts > 1].astype(np.float64)
        return float((groups**2).sum() / groups.sum()) if groups.size else 1.0

    def matches(self, X: np.ndarray) -> np.ndarray:
        """Rows of A each row of ``X`` equals (0 where none), as an int64 array."""
        if X.shape[0] == 0 or self.hashes.size == 0:
            return np.zeros(X.shape[0], dtype=np.int64)
        keys = self.hash_rows(X)
        where = np.minimum(np.searchsorted(self.hashes, keys), self.hashes.size - 1)
        found = self.hashes[where] == keys
        return np.where(found, self.counts[where], 0).astype(np.int64)

    def count_matches(self, X: np.ndarray) -> int:
        """Number of rows of ``X`` that equal some row of A."""
        return int(np.count_nonzero(self.matches(X)))

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Also reads fingerprints saved before the counts were kept.
        self.__dict__.update(state)
        if "counts" not in state:
            self.counts = np.ones(self.hashes.size, dtype=np.uint32)
            self.n_rows = int(self.hashes.size)
            self.n_repeated = 0


def leakage_test(fingerprints: RowFingerprints, X: np.ndarray) -> LeakageTestResult:
    """How many rows of ``X`` equal a row of A, against how many would by chance.

    Parameters
    ----------
    fingerprints : RowFingerprints
    X : ndarray of shape (n_rows, n_features)
        Rows of B's columns that feed network A, in A's column order.

    Returns
    -------
    dict
        ``matched`` (rows of ``X`` equal to a row of A), ``n_rows``,
        ``expected`` (about that many by chance: ``n_rows`` times A's repeat
        rate), ``repeat_rate`` and ``p_value``: the one-sided Fisher exact test
        of ``matched`` of ``n_rows`` against A's repeat rate, A counted as
        ``n_rows / design_effect`` rows (Fisher 1935; ``scipy.stats.hypergeom``).

    Examples
    --------
    >>> import numpy as np
    >>> from skchain.leakage import RowFingerprints, leakage_test
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(1000, 3))
    >>> result = leakage_test(RowFingerprints(a), np.vstack([a[:20], rng.normal(size=(80, 3))]))
    >>> result["matched"], result["expected"], result["p_value"] < 1e-10
    (20, 0.0, True)
    """
    n = int(X.shape[0])
    return _chance_test(fingerprints, fingerprints.count_matches(X) if n else 0, n)


def _chance_test(fingerprints: RowFingerprints, matched: int, n: int) -> LeakageTestResult:
    """:func:`leakage_test`'s result for ``matched`` of ``n`` rows equal to a row of A."""
    n_a, repeated = fingerprints.n_rows, fingerprints.n_repeated
    rate = repeated / n_a if n_a else 0.0
    # A's repeated rows come in groups (a value three rows hold counts three
    # times), so its rate is noisier than a binomial share: A counts as fewer
    # rows by the design effect of that clustering, the rate unchanged.
    n_eff = max(1, int(round(n_a / fingerprints.design_effect))) if n_a else 0
    repeated_eff = int(round(rate * n_eff))
    p = 1.0
    if matched:
        p = float(stats.hypergeom.sf(matched - 1, n_eff + n, repeated_eff + matched, n))
    return {
        "matched": matched,
        "n_rows": n,
        "expected": n * rate,
        "repeat_rate": rate,
        "p_value": min(max(p, 0.0), 1.0),
    }


def leakage_report(fingerprints: RowFingerprints, X: np.ndarray) -> pd.DataFrame:
    """The rows of ``X`` that hold exactly the values of a row of A.

    Parameters
    ----------
    fingerprints : RowFingerprints
    X : ndarray of shape (n_rows, n_features)

    Returns
    -------
    pandas.DataFrame
        One line per matching row: ``row`` (its position in ``X``, from 0) and
        ``rows_of_a`` (how many of A's training rows hold those values: a
        large count is a common value, more likely chance than reuse);
        ``attrs["test"]`` holds :func:`leakage_test`'s result, from the same
        hashes.
    """
    counts = fingerprints.matches(X)
    rows = np.flatnonzero(counts)
    report = pd.DataFrame({"row": rows, "rows_of_a": counts[rows]})
    report.attrs["test"] = _chance_test(fingerprints, len(rows), int(X.shape[0]))
    return report


def check_leakage(
    fingerprints: RowFingerprints | None,
    X: np.ndarray,
    *,
    mode: Literal["warn", "raise", "off"],
    alpha: float,
    threshold: float = 0.0,
    stage: str,
) -> LeakageTestResult | None:
    """Warn (or raise) when the leakage test rejects at ``alpha``.

    Also requires the matched share beyond chance, ``(matched - expected) /
    n_rows``, to exceed ``threshold``.

    Raises
    ------
    ValueError
        With ``mode="raise"``, when the test rejects.
    """
    if mode == "off" or fingerprints is None or X.shape[0] == 0:
        return None
    result = leakage_test(fingerprints, X)
    k, n, m = result["matched"], result["n_rows"], result["expected"]
    if result["p_value"] > alpha or (k - m) / n <= threshold:
        return result
    message = (
        f"{stage}: {k} of {n} rows fitted here ({k / n:.1%}) hold exactly the values of a row"
        f" network A was trained on; about {m:.1f} would by chance if they were new draws from"
        f" dataset A's distribution ({result['repeat_rate']:.2%} of A's own rows repeat another"
        f" row of A; one-sided Fisher test p = {result['p_value']:.2g}, alarm at leakage_alpha ="
        f" {alpha:g}). Rows of dataset A may have been reused in dataset B: network A's"
        " representation of its training rows is over-fitted, so the chain's validation scores"
        f" will be optimistic. About {max(k - m, 0):.0f} more rows match than chance explains;"
        " values alone cannot tell which (rows of B that equal a row of A by chance are among"
        " them): check how B was assembled, by an identifier shared with A if there is one."
        " The matching rows, with how many rows of A hold each one's values:"
        " chain.named_steps['features'].named_transformers_['representation']"
        ".leakage_report(X_b). Remove A's rows from B (or retrain network A without them)."
    )
    if mode == "raise":
        raise ValueError(message)
    warn_at_user(message, DataLeakageWarning)
    return result
