"""The fitted features step kept by its parameters and its rows: one fit per split in a search.

``GridSearchCV`` over the final stage fits every candidate's features step
(network A's columns, the scalers, the encoders) on the same rows of each
split with the same parameters: the same work for the same result. A chain
and its clones share one :class:`FeaturesCache`, which keeps a copy of the
fitted features step and of its output under a key made of

* the step's parameters, followed into every nested estimator
  (:mod:`skchain._features_key`), with a frozen network A by identity and fit
  (``fit_token``), and ``set_output`` and scikit-learn's configuration;
* the rows (column names, dtypes, index and values: objects with their
  types, so that 1 and "1", None and NaN differ; a categorical column with
  its categories) and the target (``content_key``).

It keeps at most 8 entries and 64 MiB of outputs per chain and its clones,
least recently used dropped first, and dies with them; it never reaches a
pickle. It is ``Pipeline(memory=...)`` in memory: a hit puts a
copy of the fitted state into the chain's own features step object (which
stays the same object), network A shared as in ``clone``. What the key cannot
describe exactly is never cached: a features step other than a
``ColumnTransformer`` (which fits clones of its transformers; a ``Pipeline``
fits its own steps in place), a fitted estimator among the parameters
(other than a frozen network A), ``random_state=None``, a function or an
object of another package among the parameters (a function may read state its
identity does not show), fit parameters routed to the features step, scikit-learn
callbacks, or ``memory`` set (joblib's cache then serves, as in a
``Pipeline``). The checks that run inside the features step's fit (network A's
leakage and drift checks) run on a miss; a hit issues again the warnings they
gave for these rows (:func:`skchain._user_frame.warnings_recorded`), so a refit
warns as the first fit did.
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from ._features_key import Uncacheable, content_key, parameters_key
from ._user_frame import warn_at_user, warnings_recorded

__all__ = [
    "FeaturesCache",
    "features_cache",
    "fit_or_reuse",
    "load_fitted_state",
    "share_features_cache",
]

#: Fitted features steps kept per chain (and its clones): a search's splits and refit.
MAX_ENTRIES = 8

#: Most memory the kept outputs of one chain (and its clones) may hold, together: what a
#: fitted chain keeps after a search, beyond what a ``Pipeline`` keeps.
MAX_BYTES = 64 * 2**20


def _nbytes(Xt: Any) -> int | None:
    if isinstance(Xt, pd.DataFrame):
        return int(Xt.memory_usage(index=True, deep=True).sum())
    if isinstance(Xt, np.ndarray):
        return Xt.nbytes
    if sparse.issparse(Xt):
        return sum(getattr(Xt, a).nbytes for a in ("data", "indices", "indptr") if hasattr(Xt, a))
    return None


def fitted_state(features: Any) -> dict[str, Any]:
    """What ``fit`` added to the features step: its attributes other than its parameters."""
    params = features.get_params(deep=False)
    return {k: v for k, v in vars(features).items() if k not in params}


def load_fitted_state(features: Any, state: dict[str, Any]) -> None:
    """Make ``features`` fitted with a copy of ``state`` (:func:`fitted_state`), keeping
    its own parameters (the same objects)."""
    params = features.get_params(deep=False)
    own = {k: v for k, v in vars(features).items() if k in params}
    features.__dict__.clear()
    features.__dict__.update(copy.deepcopy(state))
    features.__dict__.update(own)


class FeaturesCache:
    """Copies of fitted features steps and their outputs, least recently used dropped first.

    Parameters
    ----------
    max_entries : int
        Entries kept; also dropped while the kept outputs hold more than
        ``MAX_BYTES`` (64 MiB) together. An output larger than that is
        not kept.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[dict[str, Any], Any, int, list[Any]]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> tuple[dict[str, Any], Any, list[Any]] | None:
        """The fitted state, a copy of the output and the warnings kept under ``key``, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
        state, Xt, _, issued = entry
        return state, copy.deepcopy(Xt), issued

    def store(self, key: Hashable, features: Any, Xt: Any, issued: list[Any]) -> None:
        """Keep copies of the fitted ``features`` step and of its output ``Xt``, and the
        warnings its fit ``issued`` (:func:`skchain._user_frame.warnings_recorded`)."""
        nbytes = _nbytes(Xt)
        if nbytes is None or nbytes > MAX_BYTES:
            return
        try:
            entry = (copy.deepcopy(fitted_state(features)), copy.deepcopy(Xt), nbytes, issued)
        except Exception:  # noqa: BLE001 - a state that cannot be copied is not kept
            return
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries or (
                sum(e[2] for e in self._entries.values()) > MAX_BYTES
            ):
                self._entries.popitem(last=False)

    def info(self) -> dict[str, int]:
        """Counters since creation: ``hits``, ``misses``, ``entries``."""
        return {"hits": self.hits, "misses": self.misses, "entries": len(self._entries)}


# The cache of each chain, shared with its clones (``Chain.__sklearn_clone__``); outside
# the chains so that it never reaches a pickle.
_caches: weakref.WeakKeyDictionary[object, FeaturesCache] = weakref.WeakKeyDictionary()


def features_cache(chain: object) -> FeaturesCache:
    """The cache of ``chain`` (made on first use)."""
    cache = _caches.get(chain)
    if cache is None:
        cache = _caches[chain] = FeaturesCache()
    return cache


def share_features_cache(clone: object, chain: object) -> None:
    """Make ``chain``'s cache the cache of ``clone`` too."""
    _caches[clone] = features_cache(chain)


def fit_or_reuse(
    cache: FeaturesCache, features: Any, X: Any, y: Any, fit: Callable[[], Any]
) -> Any:
    """The features step's output for ``(X, y)``: from ``cache``, or ``fit()`` and kept.

    Parameters
    ----------
    cache : FeaturesCache
        The chain's cache (:func:`features_cache`).
    features : estimator
        The chain's features step, unfitted or fitted; ``fit()`` fits it in
        place (``Pipeline._fit`` without ``memory``). On a hit it gets a copy
        of the kept fitted state instead.
    X, y
        The rows and target ``fit()`` fits it on.
    fit : callable
        Fits ``features`` on ``(X, y)`` and returns its output.

    Returns
    -------
    The features step's output (a copy on a hit).
    """
    try:
        if not hasattr(features, "get_params"):
            raise Uncacheable("no estimator")
        key = (parameters_key(features), content_key(X, y))
    except Exception:  # noqa: BLE001 - rows or a target the key cannot read (lists in cells...)
        return fit()
    hit = cache.get(key)
    if hit is None:
        with warnings_recorded() as issued:
            Xt = fit()
        cache.store(key, features, Xt, issued)
        return Xt
    state, Xt, issued = hit
    load_fitted_state(features, state)
    for message, category in issued:  # what the checks said when it was fitted on these rows
        warn_at_user(message, category)
    return Xt
