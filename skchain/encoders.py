"""Encoders for dataset B's categorical columns."""

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import FeatureHasher
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["HashingEncoder"]

_STAGE = "HashingEncoder (categorical columns)"


class HashingEncoder(TransformerMixin, BaseEstimator):
    """Hash categorical columns into a fixed number of float32 columns.

    Each cell becomes the token ``"<column>=<value>"``, hashed by
    scikit-learn's :class:`~sklearn.feature_extraction.FeatureHasher` into
    ``n_features`` columns. The width does not depend on the number of
    levels, and levels never seen in ``fit`` need no special handling. Missing
    values (``None``, ``NaN``, ``pd.NA``) are one level of their own,
    ``"<missing>"``.

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

    def __init__(self, n_features=64, alternate_sign=False):
        self.n_features = n_features
        self.alternate_sign = alternate_sign

    def fit(self, X, y=None):
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
        if not (isinstance(self.n_features, numbers.Integral) and self.n_features > 0):
            raise ValueError(
                f"{_STAGE}: n_features={self.n_features!r}; expected a positive int"
            )
        self._check(X, reset=True)
        return self

    def _check(self, X, reset):
        values = validate_data(
            self, X, reset=reset, dtype=None, ensure_all_finite=False
        )
        return values

    def transform(self, X):
        """Hash each row's ``"<column>=<value>"`` tokens.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_columns)
            Categorical columns, as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_features), dtype float32
        """
        check_is_fitted(self)
        values = self._check(X, reset=False)
        names = self._column_names()
        tokens = (
            [f"{name}={_level(value)}" for name, value in zip(names, row)]
            for row in values
        )
        hasher = FeatureHasher(
            n_features=self.n_features,
            input_type="string",
            alternate_sign=self.alternate_sign,
            dtype=np.float32,
        )
        return hasher.transform(tokens).toarray()

    def _column_names(self):
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            return [f"x{i}" for i in range(self.n_features_in_)]
        return [str(name) for name in names]

    def get_feature_names_out(self, input_features=None):
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = []
        return tags


def _level(value):
    """One spelling for every kind of missing value."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "<missing>"
    return value
