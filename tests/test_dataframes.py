"""Every DataFrame a scikit-learn user passes: pandas, polars, pyarrow-backed pandas, a Series.

polars and pyarrow-backed pandas give the same results as the same data in
numpy-backed pandas (to float32 rounding), for ``fit``, ``predict``,
``transform`` and ``score`` of every public estimator and of a chain, and a
chain fitted on one kind predicts rows of the other.
"""

import numpy as np
import pandas as pd
import pytest
from conftest import N_A_FEATURES, build_network_a
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from skchain import (
    CategoricalLevels,
    ChainRegressor,
    FrozenTransformer,
    HashingEncoder,
    KerasTransformer,
    SequencePadder,
    make_chain,
)

pl = pytest.importorskip("polars")

COLUMNS = [f"a{i}" for i in range(N_A_FEATURES)]


def _kinds(df):
    """The same rows as numpy-backed pandas, polars, and pyarrow-backed pandas."""
    return {
        "pandas": df,
        "polars": pl.from_pandas(df),
        "pyarrow": df.convert_dtypes(dtype_backend="pyarrow"),
    }


def _close(a, b):
    np.testing.assert_allclose(
        np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), rtol=1e-5, atol=1e-5
    )


@pytest.fixture(scope="module")
def frame_b(dataset_b):
    df, y = dataset_b
    df = df.copy()
    df["city"] = [f"c{i % 23}" for i in range(len(df))]
    df["clicks"] = [list(range(1, 2 + i % 4)) for i in range(len(df))]
    return df, y


def _chain(pre, **kwargs):
    return make_chain(
        pre,
        representation_columns=COLUMNS,
        categorical_columns=["store", "city"],
        numeric_columns=["age"],
        sequence_columns=["clicks"],
        regressor=ChainRegressor(epochs=2, random_state=0, hidden_units=(8,), branch_units=8),
        **kwargs,
    )


@pytest.mark.parametrize("kind", ["polars", "pyarrow"])
def test_chain_fit_predict_score_match_pandas(fitted_pre, frame_b, kind):
    df, y = frame_b
    frames = _kinds(df)
    reference = _chain(fitted_pre).fit(frames["pandas"], y)
    other = _chain(fitted_pre).fit(frames[kind], y)
    _close(other.predict(frames[kind]), reference.predict(frames["pandas"]))
    assert other.score(frames[kind], y) == pytest.approx(reference.score(df, y), abs=1e-5)
    # Fitted on one kind, predicting the other, both ways; one row too.
    _close(reference.predict(frames[kind]), reference.predict(df))
    _close(other.predict(df), other.predict(frames[kind]))
    _close(reference.predict(frames[kind][3:4]), reference.predict(df.iloc[[3]]))
    assert other.categorical_encodings_ == reference.categorical_encodings_


def test_keras_transformer_and_frozen_step_take_polars(dataset_a, dataset_b):
    X, y = dataset_a
    frame_a = pd.DataFrame(X, columns=COLUMNS)
    kwargs = dict(output_layer="embedding", loss="mse", epochs=2, random_state=0)
    on_pandas = KerasTransformer(build_network_a, **kwargs).fit(frame_a, y)
    on_polars = KerasTransformer(build_network_a, **kwargs).fit(pl.from_pandas(frame_a), y)
    assert list(on_polars.feature_names_in_) == COLUMNS
    for rows in _kinds(frame_a).values():
        _close(on_polars.transform(rows), on_pandas.transform(frame_a))
        _close(on_polars.predict(rows), on_pandas.predict(frame_a))
    df, _ = dataset_b
    frozen = FrozenTransformer(on_pandas)
    for rows in _kinds(df[COLUMNS[::-1]]).values():  # matched by name, in any order
        _close(frozen.fit(rows).transform(rows), on_pandas.transform(df[COLUMNS]))
    for rows in _kinds(df).values():  # fitted on A's columns, extra columns are ignored
        _close(frozen.transform(rows), on_pandas.transform(df[COLUMNS]))


def test_chain_regressor_and_encoders_take_polars(frame_b):
    df, y = frame_b
    numeric = df[COLUMNS + ["age"]]
    reference = ChainRegressor(epochs=2, random_state=0).fit(numeric, y)
    for rows in _kinds(numeric).values():
        fitted = ChainRegressor(epochs=2, random_state=0).fit(rows, y)
        _close(fitted.predict(rows), reference.predict(numeric))
        assert fitted.score(rows, y) == pytest.approx(reference.score(numeric, y), abs=1e-5)
    for transformer, columns in [
        (CategoricalLevels(), ["store", "city"]),
        (HashingEncoder(n_features=8), ["store", "city"]),
        (SequencePadder(maxlen=4), ["clicks"]),
    ]:
        expected = np.asarray(transformer.fit_transform(df[columns]))
        for kind, rows in _kinds(df[columns]).items():
            got = np.asarray(transformer.fit(rows).transform(rows))
            np.testing.assert_array_equal(got, expected, err_msg=f"{transformer} on {kind}")


def test_polars_output_of_the_features_step(fitted_pre, frame_b):
    df, y = frame_b
    features = ColumnTransformer(
        [
            ("representation", FrozenTransformer(fitted_pre), COLUMNS),
            ("levels", CategoricalLevels(), ["store"]),
        ]
    ).set_output(transform="polars")
    out = features.fit_transform(pl.from_pandas(df), y)
    assert isinstance(out, pl.DataFrame)
    assert out.columns[:2] == ["representation__embedding0", "representation__embedding1"]
    assert out.columns[-1] == "levels__store"


def test_hand_built_pipeline_takes_polars(fitted_pre, frame_b):
    df, y = frame_b
    pipe = Pipeline(
        [
            (
                "features",
                ColumnTransformer(
                    [
                        ("representation", FrozenTransformer(fitted_pre), COLUMNS),
                        ("hashed", HashingEncoder(n_features=8), ["store"]),
                    ]
                ).set_output(transform="pandas"),
            ),
            ("regressor", ChainRegressor(epochs=2, random_state=0)),
        ]
    )
    expected = pipe.fit(df, y).predict(df)
    _close(pipe.fit(pl.from_pandas(df), y).predict(pl.from_pandas(df)), expected)


@pytest.mark.parametrize("series", ["pandas", "polars"])
def test_a_series_where_rows_are_expected_says_how_to_pass_one_row(fitted_chain, dataset_b, series):
    df, _ = dataset_b
    row = df.iloc[7] if series == "pandas" else pl.from_pandas(df)["a0"]
    before = fitted_chain.predict(df)
    with pytest.raises(TypeError, match=r"df\.iloc\[\[7\]\]"):
        fitted_chain.predict(row)
    with pytest.raises(TypeError, match="Series"):
        fitted_chain.named_steps["features"].named_transformers_["representation"].transform(row)
    np.testing.assert_array_equal(fitted_chain.predict(df), before)


def test_chain_classifier_takes_polars(fitted_pre, frame_b):
    from skchain import ChainClassifier

    df, y = frame_b
    labels = np.where(y > np.median(y), "high", "low")

    def chain():
        return make_chain(
            fitted_pre,
            representation_columns=COLUMNS,
            categorical_columns=["store"],
            classifier=ChainClassifier(epochs=2, random_state=0),
        )

    reference = chain().fit(df, labels)
    other = chain().fit(pl.from_pandas(df), pl.Series(labels))
    _close(other.predict_proba(pl.from_pandas(df)), reference.predict_proba(df))
    np.testing.assert_array_equal(other.predict(pl.from_pandas(df)), reference.predict(df))
    assert other.score(pl.from_pandas(df), labels) == reference.score(df, labels)
