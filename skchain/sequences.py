"""Variable-length sequence columns as fixed-width, padded blocks."""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any, ClassVar, Literal, Self

import numpy as np
from keras.utils import pad_sequences
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._validation import checked_frame, input_names

__all__ = ["SequencePadder"]

_STAGE = "SequencePadder (sequence columns)"


class SequencePadder(TransformerMixin, BaseEstimator):
    """Pad or truncate columns of variable-length sequences to ``maxlen`` steps.

    Each cell of each column is a list, tuple or 1-D array of numbers (token
    ids, or the values of a short time series) of any length; a missing cell
    (``None``, ``NaN``) is an empty sequence. Every column becomes ``maxlen``
    output columns, padded and truncated exactly as
    :func:`keras.utils.pad_sequences` does it, so that a network with a
    ``Masking`` layer or an ``Embedding(mask_zero=True)`` ignores the padded
    steps. Token ids must therefore be >= 1 (0 is padding).

    Parameters
    ----------
    maxlen : int or None, default=None
        Steps per sequence; ``None`` takes the longest sequence seen in
        ``fit``. Give it explicitly when the output feeds a network trained
        elsewhere (network A's input width).
    padding : {"pre", "post"}, default="pre"
        Pad before or after each sequence.
    truncating : {"pre", "post"}, default="pre"
        Drop steps from the beginning or the end of longer sequences.
    value : float, default=0.0
        The padding value (what the network masks).
    dtype : {"int32", "float32"}, default="int32"
        ``"int32"`` for token ids (the final network embeds them),
        ``"float32"`` for values.

    Attributes
    ----------
    maxlen_ : int
        Steps per sequence.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when they were strings.

    Examples
    --------
    >>> import pandas as pd
    >>> from skchain import SequencePadder
    >>> df = pd.DataFrame({"clicks": [[3, 1, 4], [1], None]})
    >>> SequencePadder(maxlen=4).fit_transform(df).tolist()
    [[0, 3, 1, 4], [0, 0, 0, 1], [0, 0, 0, 0]]
    """

    #: The parameters and the values each takes, checked by ``fit``.
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "maxlen": [Interval(Integral, 1, None, closed="left"), None],
        "padding": [StrOptions({"pre", "post"})],
        "truncating": [StrOptions({"pre", "post"})],
        "value": [Real],
        "dtype": [StrOptions({"int32", "float32"})],
    }

    def __init__(
        self,
        maxlen: int | None = None,
        padding: Literal["pre", "post"] = "pre",
        truncating: Literal["pre", "post"] = "pre",
        value: float = 0.0,
        dtype: Literal["int32", "float32"] = "int32",
    ) -> None:
        self.maxlen = maxlen
        self.padding = padding
        self.truncating = truncating
        self.value = value
        self.dtype = dtype

    def _columns(self, X: Any, reset: bool) -> list[list[np.ndarray]]:
        """The sequences of each column as lists of 1-D arrays, checked."""
        frame = checked_frame(self, X, reset)
        return [
            self._sequences(frame.iloc[:, j].to_numpy(dtype=object), name)
            for j, name in enumerate(input_names(self))
        ]

    def _sequences(self, column: np.ndarray, name: str) -> list[np.ndarray]:
        sequences: list[np.ndarray] = []
        for i, cell in enumerate(column):
            if cell is None or (isinstance(cell, float) and np.isnan(cell)):
                sequences.append(np.empty(0, dtype=self.dtype))
                continue
            if isinstance(cell, (str, bytes)) or not hasattr(cell, "__len__"):
                raise TypeError(
                    f"{_STAGE}: column {name!r}, row {i} holds {cell!r}; expected a list,"
                    " tuple or 1-D array of numbers (or None for an empty sequence)"
                )
            try:
                seq = np.asarray(cell, dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(
                    f"{_STAGE}: column {name!r}, row {i} holds non-numeric steps"
                    f" ({cell!r:.60}); expected numbers"
                ) from None
            if seq.ndim != 1:
                raise ValueError(
                    f"{_STAGE}: column {name!r}, row {i} has shape {seq.shape}; expected"
                    " a 1-D sequence"
                )
            if not np.isfinite(seq).all():
                raise ValueError(
                    f"{_STAGE}: column {name!r}, row {i} holds NaN or infinity; expected"
                    " finite steps"
                )
            if self.dtype == "int32":
                if (seq != np.round(seq)).any() or (seq < 0).any():
                    raise ValueError(
                        f"{_STAGE}: column {name!r}, row {i} holds {cell!r:.60}; token ids"
                        " must be non-negative integers (or use dtype='float32' for values)"
                    )
                if (seq == self.value).any():
                    raise ValueError(
                        f"{_STAGE}: column {name!r}, row {i} holds the token id"
                        f" {self.value:g}, which is the padding value: padded steps are"
                        " masked, so these steps would be silently dropped. Token ids must"
                        " differ from the padding value (with value=0, start ids at 1: ids + 1)"
                    )
            sequences.append(seq.astype(self.dtype))
        return sequences

    def fit(self, X: ArrayLike, y: object = None) -> Self:
        """Check the sequences and fix ``maxlen_``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_columns)
            Columns whose cells are sequences.
        y : None
            Ignored.

        Returns
        -------
        self : SequencePadder
        """
        self._validate_params()
        columns = self._columns(X, reset=True)
        if self.maxlen is None:
            longest = max((len(s) for column in columns for s in column), default=0)
            self.maxlen_ = max(1, longest)
        else:
            self.maxlen_ = int(self.maxlen)
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Pad and truncate every sequence to ``maxlen_`` steps.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_columns)

        Returns
        -------
        ndarray of shape (n_samples, n_columns * ``maxlen_``), dtype int32 or float32
        """
        check_is_fitted(self)
        columns = self._columns(X, reset=False)
        blocks = [
            pad_sequences(
                column,
                maxlen=self.maxlen_,
                dtype=self.dtype,
                padding=self.padding,
                truncating=self.truncating,
                value=self.value,
            )
            for column in columns
        ]
        return np.ascontiguousarray(np.concatenate(blocks, axis=1))

    def get_feature_names_out(self, input_features: Iterable[str] | None = None) -> np.ndarray:
        """``"<column>_<step>"`` for each step of each column.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Column names; default: those seen in ``fit``.

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self)
        names = input_names(self) if input_features is None else [str(n) for n in input_features]
        return np.asarray(
            [f"{name}_{t}" for name in names for t in range(self.maxlen_)], dtype=object
        )

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = []
        return tags
