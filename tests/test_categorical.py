"""Categorical columns: one-hot, hashing, entity embeddings, automatic choice, missing values."""

import io
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from conftest import N_A_FEATURES, make_dataset_b, record_filter_calls
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold

import skchain
from skchain import CategoricalLevels, ChainRegressor, make_categorical_encoder, make_chain
from skchain.encoders import default_embedding_width

A_COLUMNS = [f"a{i}" for i in range(N_A_FEATURES)]


def _dataset(n_rows=360, n_cities=40, seed=3):
    """Dataset B plus 'city' (n_cities levels, an effect each, some missing) and 'flag'."""
    df, y = make_dataset_b(n_rows, seed=seed)
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, n_cities, n_rows)
    effect = rng.normal(scale=2.0, size=n_cities)
    df["city"] = np.array([f"c{c}" for c in codes], dtype=object)
    y = y + effect[codes]
    df.loc[df.index[::17], "city"] = None
    df["flag"] = rng.random(n_rows) > 0.5
    return df, y


def _chain(pre, encoding, *, epochs=3, **kwargs):
    return make_chain(
        pre,
        representation_columns=A_COLUMNS,
        categorical_columns=["store", "city", "flag"],
        numeric_columns=["age"],
        categorical_encoding=encoding,
        regressor=ChainRegressor(
            epochs=epochs, random_state=0, hidden_units=(16,), branch_units=16
        ),
        **kwargs,
    )


def _fit(chain, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # drift/leakage checks of the toy data
        return chain.fit(X, y)


def _new_rows(df):
    """Rows with a level never seen, missing values of every kind, and changed types."""
    new = df.head(6).copy()
    new["store"] = new["store"].astype(object)
    new["city"] = new["city"].astype(object)
    new["flag"] = new["flag"].astype(object)
    new.loc[new.index[0], "city"] = "atlantis"
    new.loc[new.index[1], "city"] = np.nan
    new.loc[new.index[2], "store"] = pd.NA
    new.loc[new.index[3], "flag"] = None
    new.loc[new.index[4], "store"] = 7
    return new


@pytest.mark.parametrize("encoding", ["onehot", "hash", "embed"])
def test_each_encoding_fits_predicts_unseen_and_missing_and_round_trips(fitted_pre, encoding):
    df, y = _dataset()
    chain = _fit(_chain(fitted_pre, encoding), df, y)
    assert set(chain.categorical_encodings_.values()) == {encoding}
    new = _new_rows(df)
    predicted = chain.predict(new)
    assert predicted.shape == (6,) and predicted.dtype == np.float32
    assert np.isfinite(predicted).all()
    # The fused path and the step-by-step path agree.
    stepwise = chain.named_steps["regressor"].predict(chain.named_steps["features"].transform(new))
    np.testing.assert_allclose(predicted, stepwise, rtol=1e-5, atol=1e-5)
    buffer = io.BytesIO()
    joblib.dump(chain, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).predict(new), predicted)


def test_encodings_are_named_blocks_of_the_regressor(fitted_pre):
    df, y = _dataset()
    chain = _fit(
        _chain(fitted_pre, {"store": "onehot", "city": "embed", "flag": "hash"}, hash_features=4),
        df,
        y,
    )
    regressor = chain.named_steps["regressor"]
    assert [name for name, _, _ in regressor.input_blocks_] == [
        "representation",
        "representation_inputs",
        "onehot",
        "hashed",
        "embedded",
        "numeric",
    ]
    assert chain.categorical_encodings_ == {"store": "onehot", "flag": "hash", "city": "embed"}
    rows, width = regressor.embedding_sizes_["embedded__city"]
    assert rows == 40 + 2  # the levels seen, plus the missing and unknown rows
    assert width == default_embedding_width(40) == 20
    frame = chain.named_steps["features"].transform(df.head(3))
    assert frame["embedded__city"].dtype == np.int32
    assert frame.filter(like="representation__").dtypes.eq(np.float32).all()


def test_auto_chooses_by_cardinality_and_threshold_is_a_parameter(fitted_pre):
    df, y = _dataset()
    chain = _fit(_chain(fitted_pre, "auto"), df, y)
    # store: 3 levels, flag: 2, city: 40 levels + missing.
    assert chain.categorical_encodings_ == {"store": "onehot", "flag": "onehot", "city": "embed"}
    chain = _fit(_chain(fitted_pre, "auto", max_onehot_levels=50), df, y)
    assert set(chain.categorical_encodings_.values()) == {"onehot"}
    chain = _fit(_chain(fitted_pre, "auto", max_onehot_levels=2, high_cardinality="hash"), df, y)
    assert chain.categorical_encodings_ == {"store": "hash", "flag": "onehot", "city": "hash"}
    # The choice is scikit-learn's own record of the columns, after fit.
    features = chain.named_steps["features"]
    assert list(features.named_transformers_) == [
        "representation",
        "representation_inputs",
        "onehot",
        "hashed",
        "numeric",
    ]
    assert [cols for name, _, cols in features.transformers_ if name == "hashed"] == [
        ["store", "city"]
    ]


def test_high_cardinality_column_never_becomes_a_wide_matrix(fitted_pre):
    df, y = _dataset(n_rows=300, n_cities=100_000, seed=5)
    levels = df["city"].nunique()
    for encoding, expected in [("auto", "embed"), ("embed", "embed"), ("hash", "hash")]:
        chain = _fit(_chain(fitted_pre, encoding, epochs=1), df, y)
        assert chain.categorical_encodings_["city"] == expected
        assert chain.named_steps["features"].transform(df.head(2)).shape[1] < 100 < levels
    # 100,000 distinct levels: one int32 code column, or a fixed hashed width.
    many = pd.DataFrame({"id": [f"user{i}" for i in range(100_000)]})
    assert make_categorical_encoder("embed").fit_transform(many).shape == (100_000, 1)
    assert make_categorical_encoder("hash", hash_features=32).fit_transform(many).shape == (
        100_000,
        32,
    )


def test_embed_learns_the_per_level_effect(fitted_pre):
    df, y = _dataset(n_rows=600, n_cities=30)
    X_train, X_test, y_train, y_test = df[:450], df[450:], y[:450], y[450:]

    def r2(chain):
        return _fit(chain, X_train, y_train).score(X_test, y_test)

    without_city = make_chain(
        fitted_pre,
        representation_columns=A_COLUMNS,
        categorical_columns=["store"],
        numeric_columns=["age"],
        regressor=ChainRegressor(epochs=40, random_state=0, hidden_units=(16,), branch_units=16),
    )
    with_city = _chain(
        fitted_pre, {"store": "onehot", "city": "embed", "flag": "onehot"}, epochs=40
    )
    assert r2(with_city) > r2(without_city) + 0.05


def test_category_embeddings_have_the_level_labels(fitted_pre):
    df, y = _dataset()
    chain = _fit(_chain(fitted_pre, "embed", min_frequency=8), df, y)
    tables = chain.category_embeddings()
    assert set(tables) == {"store", "city", "flag"}
    city = tables["city"]
    encoder = chain.named_steps["features"].named_transformers_["embedded"]["encoder"]
    infrequent = encoder.infrequent_categories_[1]
    assert infrequent is not None and len(infrequent)
    assert list(city.index[:2]) == ["<missing>", "<unknown>"]
    assert city.index[-1] == "<infrequent>"
    frequent = [
        c for c in encoder.categories_[1] if isinstance(c, str) and c not in set(infrequent)
    ]
    assert list(city.index[2:-1]) == frequent
    rows, width = chain.named_steps["regressor"].embedding_sizes_["embedded__city"]
    assert city.shape == (rows, width)
    # The table is the network's: the row of a level is what predict uses.
    regressor = chain.named_steps["regressor"]
    np.testing.assert_array_equal(
        city.to_numpy(), regressor.category_embeddings()["embedded__city"]
    )


def test_embedding_dim_int_dict_and_searchable(fitted_pre):
    df, y = _dataset()
    chain = _chain(fitted_pre, "embed", epochs=1)
    chain.set_params(regressor__embedding_dim={"city": 3})
    _fit(chain, df, y)
    sizes = chain.named_steps["regressor"].embedding_sizes_
    assert sizes["embedded__city"][1] == 3
    assert sizes["embedded__store"][1] == default_embedding_width(3)
    chain.set_params(regressor__embedding_dim=5)
    _fit(chain, df, y)
    assert {w for _, w in chain.named_steps["regressor"].embedding_sizes_.values()} == {5}
    with pytest.raises(ValueError, match="embedding_dim"):
        _fit(chain.set_params(regressor__embedding_dim=0), df, y)


@pytest.mark.parametrize(
    "encoding, grid",
    [
        ("onehot", {"features__onehot__encoder__min_frequency": [None, 10]}),
        ("hash", {"features__hashed__n_features": [4, 16]}),
        (
            "embed",
            {
                "features__embedded__encoder__max_categories": [None, 5],
                "regressor__embedding_dim": [None, 2],
            },
        ),
    ],
)
def test_grid_search_over_encoding_parameters(fitted_pre, encoding, grid):
    df, y = _dataset(n_rows=240)
    search = GridSearchCV(
        _chain(fitted_pre, encoding, epochs=2),
        grid,
        cv=KFold(2, shuffle=True, random_state=0),
        error_score="raise",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(df, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert len(search.cv_results_["params"]) == np.prod([len(v) for v in grid.values()])
    assert search.best_estimator_.predict(_new_rows(df)).shape == (6,)


def test_skchain_save_round_trip_with_embeddings(fitted_pre, tmp_path):
    df, y = _dataset()
    chain = _fit(_chain(fitted_pre, "auto", max_onehot_levels=4), df, y)
    path = tmp_path / "chain.skchain"
    skchain.save(chain, path)
    loaded = skchain.load(path, trusted=["conftest.build_network_a"])
    new = _new_rows(df)
    np.testing.assert_array_equal(loaded.predict(new), chain.predict(new))
    assert loaded.categorical_encodings_ == chain.categorical_encodings_
    pd.testing.assert_frame_equal(
        loaded.category_embeddings()["city"], chain.category_embeddings()["city"]
    )


def test_mixed_column_types_all_work(fitted_pre):
    df, y = _dataset(n_rows=240)
    rng = np.random.default_rng(0)
    df["size"] = rng.integers(1, 4, len(df))  # integers
    df["colour"] = pd.Categorical(rng.choice(["red", "blue", None], len(df)))
    df["label"] = pd.array(rng.choice(["x", "y", None], len(df)), dtype="string")  # pd.NA
    df["mixed"] = pd.Series([["a", 1, 2.5, None][i % 4] for i in range(len(df))], dtype=object)
    columns = ["store", "flag", "size", "colour", "label", "mixed", "city"]
    for encoding in ["onehot", "hash", "embed"]:
        chain = make_chain(
            fitted_pre,
            representation_columns=A_COLUMNS,
            categorical_columns=columns,
            categorical_encoding=encoding,
            regressor=ChainRegressor(epochs=1, random_state=0),
        )
        _fit(chain, df, y)
        new = df.head(4).copy()
        new["size"] = [1.0, np.nan, 3.0, 99.0]  # an int column that arrives as float
        assert np.isfinite(chain.predict(new)).all()
        if encoding != "hash":
            # 1.0 is the level "1" seen in fit, not an unknown level.
            block = "onehot" if encoding == "onehot" else "embedded"
            step = chain.named_steps["features"].named_transformers_[block]
            levels = step["levels"].transform(new[columns])
            assert np.asarray(levels)[0, columns.index("size")] == "1"


def test_categorical_levels_spelling():
    df = pd.DataFrame(
        {
            "ints": [1, 2, 3],
            "floats": [1.0, 2.5, np.nan],
            "bools": [True, False, True],
            "nullable": pd.array([1, pd.NA, 3], dtype="Int64"),
            "mixed": ["a", 3, None],
            "times": pd.to_datetime(["2024-01-01", None, "2024-01-02"]),
        }
    )
    out = CategoricalLevels().set_output(transform="pandas").fit_transform(df)
    assert list(out.columns) == list(df.columns)
    assert out["ints"].tolist() == ["1", "2", "3"]
    assert out["floats"].tolist()[:2] == ["1", "2.5"] and pd.isna(out["floats"][2])
    assert out["bools"].tolist() == ["True", "False", "True"]
    assert out["nullable"][0] == "1" and pd.isna(out["nullable"][1])
    assert out["mixed"][:2].tolist() == ["a", "3"] and pd.isna(out["mixed"][2])
    assert pd.isna(out["times"][1]) and out["times"][0].startswith("2024-01-01")


def test_embed_codes_reserve_missing_and_unknown():
    encoder = make_categorical_encoder("embed").fit(pd.DataFrame({"c": ["b", "a", None, "b"]}))
    codes = encoder.transform(pd.DataFrame({"c": ["a", "b", "zzz", None, np.nan]}))
    assert codes.dtype == np.int32
    assert codes.ravel().tolist() == [0, 1, -1, -2, -2]


def test_numeric_imputer_and_missing_numeric_error(fitted_pre):
    df, y = _dataset(n_rows=240)
    df.loc[df.index[:5], "age"] = np.nan
    chain = _chain(fitted_pre, "onehot", epochs=1)
    with pytest.raises(ValueError, match=r"column 'age' has 5 missing value\(s\).*numeric_imputer"):
        _fit(chain, df, y)
    assert not hasattr(chain.named_steps["regressor"], "model_")
    chain = _fit(_chain(fitted_pre, "onehot", epochs=1, numeric_imputer="median"), df, y)
    imputer = chain.named_steps["features"].named_transformers_["numeric"]["imputer"]
    assert imputer.statistics_[0] == np.nanmedian(df["age"])
    assert np.isfinite(chain.predict(df.head(8))).all()
    # Without an imputer, predict names the column too.
    fitted = _fit(_chain(fitted_pre, "onehot", epochs=1), df.iloc[5:], y[5:])
    with pytest.raises(ValueError, match="column 'age' has 5 missing"):
        fitted.predict(df.head(8))


def test_make_chain_rejects_bad_encoding_choices(fitted_pre):
    with pytest.raises(ValueError, match="categorical_encoding='bogus'.*'store'"):
        _chain(fitted_pre, "bogus")
    with pytest.raises(ValueError, match=r"not named: \['flag'\]"):
        _chain(fitted_pre, {"store": "onehot", "city": "embed"})
    with pytest.raises(ValueError, match="high_cardinality"):
        _chain(fitted_pre, "auto", high_cardinality="onehot")
    with pytest.raises(TypeError, match="numeric_imputer"):
        _chain(fitted_pre, "auto", numeric_imputer=3)


def test_dict_encoding_alone_names_the_columns(fitted_pre):
    df, y = _dataset(n_rows=200)
    chain = make_chain(
        fitted_pre,
        representation_columns=A_COLUMNS,
        categorical_encoding={"store": "hash", "city": "auto"},
        regressor=ChainRegressor(epochs=1, random_state=0),
    )
    _fit(chain, df, y)
    assert chain.categorical_encodings_ == {"store": "hash", "city": "embed"}
    assert clone(chain).get_params()["features__hashed__n_features"] == 64


def test_categorical_levels_is_row_wise_and_survives_pickling():
    import pickle

    df = pd.DataFrame({"a": ["x", None, 3, 2.0], "b": pd.Categorical(["u", "v", None, "u"])})
    levels = CategoricalLevels().fit(df)

    def spelled(X):  # NaN != NaN: compare the spelling of missing values too
        return pd.DataFrame(levels.transform(X)).fillna("<nan>").to_numpy().tolist()

    full = spelled(df)
    assert full == [["x", "u"], ["<nan>", "v"], ["3", "<nan>"], ["2", "u"]]
    assert spelled(df.iloc[::-1]) == full[::-1]
    assert spelled(df.iloc[1:3]) == full[1:3]
    levels = pickle.loads(pickle.dumps(levels))
    assert spelled(df) == full


def test_fine_tuning_with_embedded_columns(fitted_pre):
    from skchain import FineTune

    df, y = _dataset(n_rows=200)
    chain = _chain(fitted_pre, "embed", epochs=2, fine_tune=FineTune(epochs=2, learning_rate=1e-3))
    _fit(chain, df, y)
    assert chain.fine_tuned_["epochs"] == 2
    stepwise = chain.named_steps["regressor"].predict(
        chain.named_steps["features"].transform(df[:10])
    )
    np.testing.assert_allclose(chain.predict(df[:10]), stepwise, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "handle_unknown, drop, min_frequency",
    [
        ("infrequent_if_exist", None, 10),  # skchain's default: no warning to avoid
        ("warn", None, 10),
        ("warn", None, None),
        ("ignore", "first", None),
        ("infrequent_if_exist", "first", 10),
        ("infrequent_if_exist", "if_binary", None),
    ],
)
def test_onehot_level_tables_match_the_encoder_without_touching_warning_filters(
    fitted_pre, handle_unknown, drop, min_frequency, monkeypatch
):
    # The compiled predict reads each level's one-hot row off the fitted encoder once. An
    # unseen level must get exactly the encoder's row, and reading the rows must not
    # silence warnings through the process-wide filters: warnings.catch_warnings is not
    # thread-safe, and concurrent first predictions left "ignore UserWarning" behind.
    df, y = _dataset()
    chain = _chain(fitted_pre, "onehot").set_params(
        features__onehot__encoder__handle_unknown=handle_unknown,
        features__onehot__encoder__drop=drop,
        features__onehot__encoder__min_frequency=min_frequency,
    )
    chain.fit(df, y)
    new = df.iloc[:8].copy()
    new["city"] = ["c1", "never-seen", None, "c39", "zzz", "c7", "c2", "c3"]
    new["store"] = ["north", "west", "south", "east", None, "north", "up", "south"]
    filters = record_filter_calls(monkeypatch)
    fused = chain.predict(new)
    assert not [args for args, _ in filters if args[:1] == ("ignore",)]
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the encoder's own, on unseen levels
        step_by_step = chain.named_steps["regressor"].predict(chain[:-1].transform(new))
    np.testing.assert_allclose(fused, step_by_step, rtol=1e-5, atol=1e-5)
