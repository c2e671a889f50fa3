"""Property test: random DataFrames thrown at a fitted chain.

Every outcome is a correct prediction or one of the documented exceptions
(``ValueError``, including ``NotFittedError``, or ``TypeError``) raised by a
skchain or scikit-learn stage, never an error from deep inside TensorFlow, and
the fitted chain never changes.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

A_COLUMNS = [f"a{i}" for i in range(6)]
MUTATIONS = [
    "keep",
    "object",
    "string",
    "nan",
    "inf",
    "drop",
    "rename",
    "category",
    "int",
    "bool",
    "huge",
]


@pytest.fixture(scope="module")
def fitted(fitted_chain, dataset_b):
    df, _ = dataset_b
    return fitted_chain, df, fitted_chain.predict(df)


def _mutate(df, column, how, row):
    if how == "object":
        df[column] = df[column].astype(object)
    elif how == "string":
        df[column] = df[column].astype(str)
    elif how in ("nan", "inf", "huge") and len(df):
        numeric = pd.api.types.is_numeric_dtype(df[column]) and not isinstance(
            df[column].dtype, pd.CategoricalDtype
        )
        df[column] = df[column].astype(float if numeric else object)
        df.iloc[row % len(df), df.columns.get_loc(column)] = {
            "nan": np.nan,
            "inf": np.inf,
            "huge": 1e30,
        }[how]
    elif how == "drop":
        df = df.drop(columns=column)
    elif how == "rename":
        df = df.rename(columns={column: column + "_renamed"})
    elif how == "category":
        df[column] = df[column].astype("category")
    elif how == "int" and pd.api.types.is_float_dtype(df[column]) and np.isfinite(df[column]).all():
        df[column] = df[column].round().astype(np.int64)
    elif how == "bool":
        df[column] = df[column].astype(bool)
    return df


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    n_rows=st.integers(min_value=0, max_value=6),
    mutations=st.lists(
        st.tuples(
            st.sampled_from(A_COLUMNS + ["store", "age"]),
            st.sampled_from(MUTATIONS),
            st.integers(min_value=0, max_value=5),
        ),
        max_size=3,
    ),
    extra_column=st.booleans(),
)
def test_random_frames_get_a_prediction_or_a_documented_error(
    fitted, n_rows, mutations, extra_column
):
    chain, df, expected = fitted
    frame = df.iloc[:n_rows].copy()
    for column, how, row in mutations:
        if column in frame.columns:
            frame = _mutate(frame, column, how, row)
    if extra_column:
        frame["unrelated"] = "x"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shift warnings are expected on odd values
        try:
            pred = chain.predict(frame)
        except (ValueError, TypeError) as exc:
            module = type(exc).__module__
            assert not module.startswith(("tensorflow", "keras")), repr(exc)
        else:
            assert isinstance(pred, np.ndarray) and pred.shape == (len(frame),)
            assert pred.dtype == np.float32
    np.testing.assert_array_equal(chain.predict(df), expected)
