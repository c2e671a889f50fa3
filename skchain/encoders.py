"""Encoders for dataset B's categorical columns.

Three encodings, chosen per column by :func:`make_categorical_encoder` (and
by :func:`skchain.make_chain`):

* ``"onehot"``: scikit-learn's :class:`~sklearn.preprocessing.OneHotEncoder`,
  one float32 column per level;
* ``"hash"``: :class:`HashingEncoder`, a fixed number of float32 columns
  whatever the number of levels;
* ``"embed"``: scikit-learn's :class:`~sklearn.preprocessing.OrdinalEncoder`
  writing one int32 code per column, which :class:`~skchain.ChainRegressor`
  turns into a learned entity embedding (Guo & Berkhahn, 2016).

Each runs after :class:`CategoricalLevels`, which spells every column's
values the same way whatever their type (strings, integers, booleans,
pandas ``category``, objects of mixed types) and makes every kind of missing
value (``None``, ``NaN``, ``pd.NA``, ``NaT``) one level of its own, so that
what a user feeds at predict time never trips the encoders' type checks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral
from typing import TYPE_CHECKING, Any, Literal, Self

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import FeatureHasher
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._level_spelling import MISSING, level_strings, level_texts
from ._validation import checked_frame, input_names

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import ArrayLike

__all__ = [
    "CATEGORICAL_ENCODINGS",
    "CategoricalLevels",
    "EncodingColumns",
    "HashingEncoder",
    "MISSING",
    "level_strings",
    "level_texts",
    "make_categorical_encoder",
]

#: The encodings :func:`make_categorical_encoder` builds.
CategoricalEncoding = Literal["onehot", "hash", "embed"]
CATEGORICAL_ENCODINGS: tuple[CategoricalEncoding, ...] = ("onehot", "hash", "embed")

# Codes of the "embed" encoding (OrdinalEncoder's, shifted by two inside the
# final network: row 0 of each embedding is "missing", row 1 "unknown").
UNKNOWN_CODE = -1
MISSING_CODE = -2


class CategoricalLevels(TransformerMixin, BaseEstimator):
    """Spell categorical columns as text levels, with one level for missing values.

    Makes any categorical input safe for scikit-learn's encoders: strings,
    integers, booleans, pandas ``category`` and nullable dtypes, and object
    columns that mix types all become object columns of strings, with
    ``np.nan`` for every kind of missing value (``None``, ``NaN``, ``pd.NA``,
    ``NaT``). Integers and integral floats are spelled alike, so that an
    integer column that arrives as float at predict time (because one value
    is missing) still matches its levels.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when they were strings.

    Examples
    --------
    >>> import pandas as pd
    >>> from skchain.encoders import CategoricalLevels
    >>> df = pd.DataFrame({"size": [1, 2.0, None], "mixed": ["a", 3, pd.NA]})
    >>> CategoricalLevels().fit_transform(df).tolist()
    [['1', 'a'], ['2', '3'], [nan, nan]]
    """

    def fit(self, X: ArrayLike, y: object = None) -> Self:
        """Record the columns.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_columns)
        y : None
            Ignored.

        Returns
        -------
        self : CategoricalLevels
        """
        checked_frame(self, X, reset=True)
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Spell each column's values as text levels.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_columns)

        Returns
        -------
        ndarray of object, shape (n_samples, n_columns)
        """
        check_is_fitted(self)
        frame = checked_frame(self, X, reset=False)
        out = np.empty(frame.shape, dtype=object)
        for j in range(frame.shape[1]):
            out[:, j] = level_strings(frame.iloc[:, j])
        return out

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> np.ndarray:
        """The input column names, unchanged.

        Parameters
        ----------
        input_features : array-like of str, default=None

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self)
        names = input_names(self) if input_features is None else input_features
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = []
        return tags


class HashingEncoder(TransformerMixin, BaseEstimator):
    """Hash categorical columns into a fixed number of float32 columns.

    Each cell becomes the token ``"<column>=<level>"`` (levels spelled as by
    :class:`CategoricalLevels`), hashed by scikit-learn's
    :class:`~sklearn.feature_extraction.FeatureHasher` into ``n_features``
    columns. The width does not depend on the number of levels, and levels
    never seen in ``fit`` need no special handling. Missing values (``None``,
    ``NaN``, ``pd.NA``) are one level of their own, ``"<missing>"``.

    Parameters
    ----------
    n_features : int, default=64
        Number of output columns. Searchable.
    alternate_sign : bool, default=False
        As in ``FeatureHasher``: alternate the sign of hashed values to reduce
        the bias of collisions.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when they were strings.

    Examples
    --------
    >>> import pandas as pd
    >>> from skchain import HashingEncoder
    >>> df = pd.DataFrame({"store": ["a", "b", "a"], "colour": ["red", "red", None]})
    >>> HashingEncoder(n_features=8).fit_transform(df).shape
    (3, 8)
    """

    #: The parameters and the values each takes, checked by ``fit``.
    _parameter_constraints: dict = {
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "alternate_sign": ["boolean"],
    }

    def __init__(self, n_features: int = 64, alternate_sign: bool = False) -> None:
        self.n_features = n_features
        self.alternate_sign = alternate_sign

    def fit(self, X: ArrayLike, y: object = None) -> Self:
        """Record the columns; hashing needs no fitting.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_columns)
            Categorical columns.
        y : None
            Ignored.

        Returns
        -------
        self : HashingEncoder
        """
        self._validate_params()
        checked_frame(self, X, reset=True)
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Hash each row's ``"<column>=<level>"`` tokens.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_columns)
            Categorical columns, as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_features), dtype float32
        """
        check_is_fitted(self)
        frame = checked_frame(self, X, reset=False)
        columns: list[np.ndarray] = []
        for name, j in zip(input_names(self), range(frame.shape[1]), strict=False):
            levels = level_texts(frame.iloc[:, j])
            columns.append(np.char.add(f"{name}=", levels.astype(str)))
        hasher = FeatureHasher(
            n_features=self.n_features,
            input_type="string",
            alternate_sign=self.alternate_sign,
            dtype=np.float32,
        )
        tokens = np.stack(columns, axis=1) if columns else np.empty((len(frame), 0), str)
        return hasher.transform(tokens).toarray()

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> np.ndarray:
        """``["hash0", ..., "hash<n_features - 1>"]``.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Ignored.

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self)
        return np.asarray([f"hash{i}" for i in range(self.n_features)], dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = []
        return tags


def default_embedding_width(cardinality: int) -> int:
    """``min(50, ceil(cardinality / 2))``: the entity-embedding rule of thumb."""
    return int(min(50, max(1, math.ceil(cardinality / 2))))


def make_categorical_encoder(
    encoding: CategoricalEncoding = "onehot",
    *,
    hash_features: int = 64,
    min_frequency: int | float | None = None,
    max_categories: int | None = None,
) -> Any:
    """The encoder ``make_chain`` uses for one categorical encoding.

    Parameters
    ----------
    encoding : {"onehot", "hash", "embed"}, default="onehot"
        ``"onehot"``: :class:`CategoricalLevels` then
        :class:`~sklearn.preprocessing.OneHotEncoder` (dense float32 output;
        levels not seen in ``fit`` become the infrequent column when rare
        levels are grouped, else an all-zero row). ``"hash"``:
        :class:`HashingEncoder` with ``hash_features`` columns. ``"embed"``:
        :class:`CategoricalLevels` then
        :class:`~sklearn.preprocessing.OrdinalEncoder` writing int32 codes
        (-2 for a missing value, -1 for a level not seen in ``fit``, 0, 1, ...
        for the levels), which :class:`~skchain.ChainRegressor` embeds.
    hash_features : int, default=64
        Width of the hashed block.
    min_frequency, max_categories : int, float or None, default=None
        Group rare levels into one, as in scikit-learn's encoders (for
        ``"onehot"`` and ``"embed"``).

    Returns
    -------
    transformer
        A ``Pipeline`` with the steps ``"levels"`` and ``"encoder"`` (onehot,
        embed) or a :class:`HashingEncoder`.

    Examples
    --------
    >>> import pandas as pd
    >>> from skchain import make_categorical_encoder
    >>> df = pd.DataFrame({"city": ["Oslo", "Rome", None, "Oslo"]})
    >>> codes = make_categorical_encoder("embed").fit(df)
    >>> codes.transform(pd.DataFrame({"city": ["Rome", "Paris", None]})).ravel().tolist()
    [1, -1, -2]
    """
    if encoding == "onehot":
        encoder = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            sparse_output=False,
            dtype=np.float32,
            min_frequency=min_frequency,
            max_categories=max_categories,
        )
    elif encoding == "embed":
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=UNKNOWN_CODE,
            encoded_missing_value=MISSING_CODE,
            dtype=np.int32,
            min_frequency=min_frequency,
            max_categories=max_categories,
        )
    elif encoding == "hash":
        return HashingEncoder(n_features=hash_features)
    else:
        raise ValueError(
            f"make_categorical_encoder: encoding={encoding!r} is not supported; expected"
            f" one of {list(CATEGORICAL_ENCODINGS)} (make_chain also takes 'auto')"
        )
    return Pipeline([("levels", CategoricalLevels()), ("encoder", encoder)])


class EncodingColumns:
    """Column selector: the categorical columns that get one encoding.

    ``make_chain(categorical_encoding="auto")`` gives a ``ColumnTransformer``
    one transformer per encoding with such a selector as its columns: it is
    called once, in ``fit``, on the training rows, and scikit-learn keeps the
    columns it chose in ``transformers_``.

    Parameters
    ----------
    encoding : {"onehot", "hash", "embed"}
        The encoding this selector picks columns for.
    columns : list of str
        Columns that always get ``encoding``.
    auto_columns : list of str, default=()
        Columns that get ``"onehot"`` when they have at most
        ``max_onehot_levels`` levels (missing counts as one) and
        ``high_cardinality`` otherwise.
    max_onehot_levels : int, default=16
    high_cardinality : {"embed", "hash"}, default="embed"
    """

    def __init__(
        self,
        encoding: CategoricalEncoding,
        columns: Iterable[str | int],
        auto_columns: Iterable[str | int] = (),
        max_onehot_levels: int = 16,
        high_cardinality: str = "embed",
    ) -> None:
        self.encoding = encoding
        self.columns = list(columns)
        self.auto_columns = list(auto_columns)
        self.max_onehot_levels = max_onehot_levels
        self.high_cardinality = high_cardinality

    def choose(self, X: pd.DataFrame) -> dict[str | int, str]:
        """``{column: encoding}`` for the automatic columns of ``X``."""
        return {
            column: (
                "onehot"
                if X[column].nunique(dropna=False) <= self.max_onehot_levels
                else self.high_cardinality
            )
            for column in self.auto_columns
        }

    def __call__(self, X: pd.DataFrame) -> list[str | int]:
        chosen = set(self.columns)
        chosen.update(c for c, e in self.choose(X).items() if e == self.encoding)
        return [c for c in [*self.columns, *self.auto_columns] if c in chosen]

    def __repr__(self) -> str:
        return (
            f"EncodingColumns({self.encoding!r}, columns={self.columns},"
            f" auto_columns={self.auto_columns}, max_onehot_levels={self.max_onehot_levels})"
        )
