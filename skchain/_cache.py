"""The representation cache: network A's outputs kept by the content of their input rows.

A search fits and scores many candidates on the same rows; the frozen step
(:class:`~skchain.FrozenTransformer`) and its clones share one
:class:`RepresentationCache`, so network A runs over each block of rows once.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable

import numpy as np
import xxhash

__all__ = ["MAX_CACHE_BYTES", "RepresentationCache", "share_cache", "shared_cache"]

#: Most memory the cached outputs of one frozen network may hold, together.
MAX_CACHE_BYTES = 256 * 2**20

#: A cache key: the rows' digest, shape and memory order, and the tag.
_Key = tuple[str, tuple[int, ...], str, Hashable]


class RepresentationCache:
    """A small LRU cache of network A's outputs, keyed by the input's content.

    Keys are the 128-bit XXH3 digest of the float32 input rows (about 35 GB/s,
    so keying 100,000 rows of 100 features costs about 1 ms) together with
    their shape, memory order and the layer name, so equal rows in a new
    array (as ``GridSearchCV`` makes for every candidate) hit the cache. XXH3
    is not a cryptographic hash: the cache assumes its inputs are not crafted
    to collide. Cached arrays
    are returned read-only.

    Parameters
    ----------
    max_entries : int
        Number of arrays kept; the least recently used is dropped first, and
        also while the cached arrays hold more than ``MAX_CACHE_BYTES``
        (256 MiB) together.
    owner : object
        The fitted estimator whose outputs are cached.
    """

    def __init__(self, max_entries: int, owner: object = None) -> None:
        self.max_entries = max_entries
        self.owner = owner
        self._entries: OrderedDict[_Key, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.rows_computed = 0

    @staticmethod
    def key(X: np.ndarray, tag: Hashable) -> _Key:
        # The bytes are hashed in memory order, so the order is part of the key.
        order = "C" if X.flags.c_contiguous else "F"
        data = X if order == "C" else X.T
        if not data.flags.c_contiguous:
            data = np.ascontiguousarray(data)
        # numpy declares ndarray.__buffer__ (the Buffer protocol) only for Python >= 3.12.
        view = memoryview(data)  # type: ignore[arg-type]
        digest = xxhash.xxh3_128_hexdigest(view.cast("B"))
        return (digest, X.shape, order, tag)

    def lookup(self, X: np.ndarray, tag: Hashable) -> tuple[_Key | None, np.ndarray | None]:
        """Return ``(key, cached output or None)`` for ``(X, tag)``.

        ``tag`` tells apart outputs of different layers or fits for the same
        rows. A hit is counted.
        """
        if self.max_entries <= 0:
            return None, None
        key = self.key(X, tag)
        with self._lock:
            out = self._entries.get(key)
            if out is not None:
                self._entries.move_to_end(key)
                self.hits += 1
        return key, out

    def store(self, key: _Key | None, out: np.ndarray, n_rows: int) -> None:
        """Count ``n_rows`` computed rows and keep ``out`` under ``key``.

        Arrays larger than the byte budget are counted but not kept.
        """
        with self._lock:
            self.misses += 1
            self.rows_computed += n_rows
            if key is None or out.nbytes > MAX_CACHE_BYTES:
                return
            out.flags.writeable = False
            self._entries[key] = out
            while len(self._entries) > self.max_entries or self.nbytes > MAX_CACHE_BYTES:
                self._entries.popitem(last=False)

    def get_or_compute(
        self, X: np.ndarray, tag: Hashable, compute: Callable[[], np.ndarray]
    ) -> np.ndarray:
        """Return the cached output for ``(X, tag)``, computing it on a miss."""
        key, out = self.lookup(X, tag)
        if out is None:
            out = compute()
            self.store(key, out, X.shape[0])
        return out

    @property
    def nbytes(self) -> int:
        """Memory held by the cached arrays."""
        return sum(out.nbytes for out in self._entries.values())

    def info(self) -> dict[str, int]:
        """Counters since creation: ``hits``, ``misses``, ``rows_computed``, ``entries``."""
        return {
            "hits": self.hits,
            "misses": self.misses,
            "rows_computed": self.rows_computed,
            "entries": len(self._entries),
            "nbytes": self.nbytes,
        }


# The cache of each frozen step, shared with its clones (``__sklearn_clone__`` hands
# it on); outside the steps so that it never reaches a pickle and transform leaves
# their ``__dict__`` unchanged.
_caches: weakref.WeakKeyDictionary[object, RepresentationCache] = weakref.WeakKeyDictionary()


def shared_cache(step: object, max_entries: int, owner: object) -> RepresentationCache:
    """The cache of ``step``: a new one when it has none yet, or when its size or the
    network it caches (``owner``) changed."""
    cache = _caches.get(step)
    if cache is None or cache.max_entries != max_entries or cache.owner is not owner:
        cache = RepresentationCache(max_entries, owner=owner)
        _caches[step] = cache
    return cache


def share_cache(step: object, cache: RepresentationCache) -> None:
    """Make ``cache`` the cache of ``step`` too (a clone shares its original's)."""
    _caches[step] = cache
