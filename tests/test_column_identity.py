"""One rule for column identity: network A's named inputs are matched by name in every path."""

import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from conftest import build_network_a
from sklearn.preprocessing import StandardScaler

from skchain import ChainRegressor, FineTune, FrozenTransformer, KerasTransformer, make_chain

NAMES = ["carat", "depth", "table", "x", "y", "z"]


@pytest.fixture(scope="module")
def named_pre():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        rng.normal(size=(200, 6)) * [0.5, 2, 3, 1, 1, 0.6] + [1, 60, 57, 5, 5, 3], columns=NAMES
    )
    y = X["carat"] * 3 + X["depth"] / 10
    return KerasTransformer(
        build_network_a, output_layer="embedding", loss="mse", epochs=3, random_state=0
    ).fit(X, y)


def _b(n=60, seed=1, names=NAMES):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)) * [0.5, 2, 3, 1, 1, 0.6] + [1, 60, 57, 5, 5, 3]
    df = pd.DataFrame(X, columns=names)
    df["cut"] = rng.choice(["Fair", "Good", "Ideal"], n)
    return df, X[:, 0] * 3 + X[:, 1] / 10 + rng.normal(0, 0.1, n)


def _chain(pre, columns, **kwargs):
    return make_chain(
        pre,
        representation_columns=columns,
        categorical_columns=["cut"],
        regressor=ChainRegressor(epochs=2, random_state=0),
        **kwargs,
    )


@pytest.mark.parametrize("fine_tune", [None, FineTune(epochs=1)], ids=["frozen", "fine-tuned"])
def test_columns_listed_in_another_order_are_matched_by_name(named_pre, fine_tune, tmp_path):
    df, y = _b()
    in_order = _chain(named_pre, NAMES, fine_tune=fine_tune).fit(df, y)
    shuffled = ["depth", "carat", "table", "z", "x", "y"]
    chain = _chain(named_pre, shuffled, fine_tune=fine_tune).fit(df, y)
    step_by_step = chain[-1].predict(chain[:-1].transform(df))
    np.testing.assert_allclose(chain.predict(df), step_by_step, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(chain.predict(df), in_order.predict(df), rtol=1e-5, atol=1e-5)
    served = np.asarray(chain.to_keras()(chain.serving_inputs(df))).ravel()
    np.testing.assert_allclose(served, step_by_step, rtol=1e-5, atol=1e-5)
    joblib.dump(chain, tmp_path / "chain.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "chain.joblib").predict(df), chain.predict(df)
    )
    # The representation block lists B's columns in network A's order.
    frozen = chain.named_steps["features"].named_transformers_["representation"]
    assert list(frozen.feature_names_in_) == NAMES


def test_columns_named_differently_are_mapped_with_a_dict(named_pre):
    df, y = _b()
    renamed = df.rename(columns={"carat": "carat_ct", "depth": "depth_pct"})
    mapping = {
        "depth_pct": "depth",
        "carat_ct": "carat",
        "table": "table",
        "x": "x",
        "y": "y",
        "z": "z",
    }
    chain = _chain(named_pre, mapping).fit(renamed, y)
    same = _chain(named_pre, NAMES).fit(df, y)
    np.testing.assert_allclose(chain.predict(renamed), same.predict(df), rtol=1e-6, atol=1e-6)
    assert "carat_ct" in chain.serving_inputs(renamed)
    tuned = _chain(named_pre, mapping, fine_tune=FineTune(epochs=1)).fit(renamed, y)
    np.testing.assert_allclose(
        tuned.predict(renamed),
        tuned[-1].predict(tuned[:-1].transform(renamed)),
        rtol=1e-5,
        atol=1e-5,
    )


@pytest.mark.parametrize(
    "columns, message",
    [
        (
            ["carat", "depth", "table", "x", "y", "colour"],
            r"never saw \['colour'\].*provides.*\['z'\]",
        ),
        (
            ["carat", "depth", "table", "x", "y"],
            r"no column provides network A's input\(s\) \['z'\]",
        ),
        (
            {"c": "carat", "depth": "carat", "table": "table", "x": "x", "y": "y", "z": "z"},
            r"several columns provide 'carat': \['c', 'depth'\]",
        ),
    ],
)
def test_names_network_a_never_saw_are_refused_at_fit_naming_both_lists(
    named_pre, columns, message
):
    df, y = _b()
    df["colour"] = 1.0
    df["c"] = 1.0
    with pytest.raises(ValueError, match=message) as caught:
        _chain(named_pre, columns).fit(df, y)
    assert "network A's inputs, in its order: ['carat', 'depth'" in str(caught.value)


def test_mistakes_in_a_mapping_are_told_in_both_names(named_pre):
    df, y = _b()
    mapping = dict(zip(NAMES, NAMES, strict=False)) | {"carat": "karat"}
    with pytest.raises(ValueError, match=r"never saw \['karat' \(B's 'carat'\)\]") as caught:
        _chain(named_pre, mapping).fit(df, y)
    assert "as network A's names: ['karat', 'depth'" in str(caught.value)
    twice = dict(zip(NAMES, NAMES, strict=False)) | {"depth": "carat"}
    with pytest.raises(ValueError, match=r"several columns provide 'carat': \['carat', 'depth'\]"):
        _chain(named_pre, twice).fit(df, y)


def test_drift_warnings_name_both_names_of_a_mapped_column(named_pre):
    from skchain import DataShiftWarning

    df, y = _b()
    swapped = {"carat": "depth", "depth": "carat"} | {c: c for c in NAMES[2:]}
    chain = make_chain(
        named_pre,
        representation_columns=swapped,
        regressor=ChainRegressor(epochs=1, random_state=0),
    )
    with pytest.warns(DataShiftWarning, match=r"depth \(network A's carat\)"):
        chain.fit(df, y)


def test_without_names_columns_are_taken_by_position(fitted_pre, dataset_b):
    df, y = dataset_b
    listed = [f"a{i}" for i in range(6)]
    chain = make_chain(
        fitted_pre,
        representation_columns=listed[::-1],
        regressor=ChainRegressor(epochs=1, random_state=0),
    ).fit(df, y)
    representation = chain.named_steps["features"].named_transformers_["representation"]
    expected = fitted_pre.transform(df[listed[::-1]].to_numpy(np.float32))
    np.testing.assert_allclose(representation.transform(df[listed[::-1]]), expected, rtol=1e-6)
    np.testing.assert_allclose(
        chain.predict(df), chain[-1].predict(chain[:-1].transform(df)), rtol=1e-5, atol=1e-5
    )
    with pytest.raises(ValueError, match="needs network A's input names"):
        make_chain(
            fitted_pre,
            representation_columns=dict(zip(listed, listed, strict=False)),
            regressor=ChainRegressor(epochs=1),
        ).fit(df, y)


def test_from_model_with_a_scaler_fitted_on_a_frame_matches_by_name(named_pre):
    df, y = _b()
    scaler = StandardScaler().fit(_b(200, seed=5)[0][NAMES])
    pre = KerasTransformer.from_model(named_pre.model_, output_layer="embedding", scaler=scaler)
    chain = _chain(pre, ["z", "y", "x", "table", "depth", "carat"]).fit(df, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # A has names, the check passes an array
        expected = pre.transform(df[NAMES].to_numpy())
    got = chain[:-1].transform(df).filter(like="representation__").to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        chain.predict(df), chain[-1].predict(chain[:-1].transform(df)), rtol=1e-5, atol=1e-5
    )


def test_frozen_transformer_alone_reorders_and_renames(named_pre):
    df, _ = _b()
    frozen = FrozenTransformer(named_pre, rename={"carat_ct": "carat"})
    renamed = df[NAMES[::-1]].rename(columns={"carat": "carat_ct"})
    out = frozen.fit(renamed).transform(renamed)
    np.testing.assert_array_equal(out, named_pre.transform(df[NAMES]))
    assert list(frozen.feature_names_in_) == ["carat_ct", *NAMES[1:]]
    with pytest.raises(ValueError, match=r"rename names \['nope'\]"):
        FrozenTransformer(named_pre, rename={"nope": "carat"}).fit(df[NAMES])
