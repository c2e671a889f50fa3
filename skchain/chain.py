"""``make_chain``: the whole chain as one scikit-learn ``Pipeline``."""

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .encoders import HashingEncoder
from .frozen import FrozenTransformer
from .preprocessor import KerasTransformer
from .regressor import ChainRegressor

__all__ = ["make_chain", "make_categorical_encoder"]

CATEGORICAL_ENCODINGS = ("onehot", "hash")


def make_categorical_encoder(encoding="onehot", *, hash_features=64):
    """The encoder ``make_chain`` uses for ``categorical_encoding``.

    Parameters
    ----------
    encoding : {"onehot", "hash"}, default="onehot"
        ``"onehot"``: :class:`~sklearn.preprocessing.OneHotEncoder` with
        unknown levels ignored at predict time (all-zero row) and dense
        float32 output. ``"hash"``: :class:`HashingEncoder` with
        ``hash_features`` columns.
    hash_features : int, default=64
        Width of the hashed block.

    Returns
    -------
    transformer
    """
    if encoding == "onehot":
        return OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float32)
    if encoding == "hash":
        return HashingEncoder(n_features=hash_features)
    raise ValueError(
        f"make_chain: categorical_encoding={encoding!r} is not supported; expected"
        f" one of {list(CATEGORICAL_ENCODINGS)}"
    )


def make_chain(
    preprocessor,
    *,
    representation_columns=None,
    categorical_columns=(),
    numeric_columns=(),
    categorical_encoding="onehot",
    hash_features=64,
    regressor=None,
):
    """Build the chain: frozen network A and B's own columns, then a regressor.

    Parameters
    ----------
    preprocessor : KerasTransformer or FrozenTransformer
        Network A, fitted on dataset A. A ``KerasTransformer`` is wrapped in a
        :class:`FrozenTransformer`, so fitting the chain never retrains it.
    representation_columns : list of str or int, default=None
        Dataset B's columns that feed network A, in network A's input order.
        ``None`` uses the column names network A was fitted with.
    categorical_columns : list of str or int, default=()
        B's categorical columns.
    numeric_columns : list of str or int, default=()
        B's numeric columns, standardised.
    categorical_encoding : {"onehot", "hash"}, default="onehot"
        How categorical columns are encoded (see
        :func:`make_categorical_encoder`).
    hash_features : int, default=64
        Width of the hashed block when ``categorical_encoding="hash"``.
    regressor : estimator, default=None
        The final stage; ``None`` means ``ChainRegressor()``.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``"features"`` (a ``ColumnTransformer`` with the transformers
        ``"representation"``, ``"categorical"`` and ``"numeric"``, those with
        no columns left out, and pandas output so that the regressor sees the
        block of each column) and ``"regressor"``.

    Examples
    --------
    >>> from skchain import ChainRegressor, make_chain
    >>> chain = make_chain(pre, representation_columns=["px0", "px1"],
    ...                    categorical_columns=["store"], numeric_columns=["age"],
    ...                    regressor=ChainRegressor(epochs=5))  # doctest: +SKIP
    >>> chain.fit(df_b, y_b).predict(df_new)  # doctest: +SKIP
    """
    if isinstance(preprocessor, KerasTransformer):
        preprocessor = FrozenTransformer(preprocessor)
    if not isinstance(preprocessor, FrozenTransformer):
        raise TypeError(
            "make_chain: preprocessor must be a fitted KerasTransformer or a"
            f" FrozenTransformer; got {type(preprocessor).__name__}"
        )
    if representation_columns is None:
        names = getattr(preprocessor.estimator, "feature_names_in_", None)
        if names is None:
            raise ValueError(
                "make_chain: representation_columns is required when network A"
                " was fitted without column names; pass B's columns that feed"
                " network A, in network A's input order"
            )
        representation_columns = list(names)
    blocks = [("representation", preprocessor, list(representation_columns))]
    if len(categorical_columns):
        encoder = make_categorical_encoder(categorical_encoding, hash_features=hash_features)
        blocks.append(("categorical", encoder, list(categorical_columns)))
    if len(numeric_columns):
        blocks.append(("numeric", StandardScaler(), list(numeric_columns)))
    features = ColumnTransformer(
        blocks, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=True
    ).set_output(transform="pandas")
    return Pipeline(
        [("features", features), ("regressor", regressor if regressor is not None else ChainRegressor())]
    )
