"""skchain.save / skchain.load (no pickle), joblib round trips, tampered files."""

import json
import os
import pickle
import zipfile

import joblib
import keras
import numpy as np
import pytest
import skops.io as sio
from conftest import build_network_a, run_fresh

import skchain
from skchain import ChainRegressor, FrozenTransformer, HashingEncoder, KerasTransformer, make_chain
from skchain.persistence import SkchainVersionWarning, UntrustedFileError

A_COLUMNS = [f"a{i}" for i in range(6)]
BUILDER = "conftest.build_network_a"


def _chain(pre, encoding):
    return make_chain(
        pre,
        representation_columns=A_COLUMNS,
        categorical_columns=["store"],
        numeric_columns=["age"],
        categorical_encoding=encoding,
        hash_features=8,
        regressor=ChainRegressor(epochs=2, random_state=0),
    )


def _rewrite(path, member, data):
    """A copy of the archive at ``path`` with ``member`` replaced by ``data``."""
    tampered = path.with_name("tampered.skchain")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tampered, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, data if name == member else src.read(name))
    return tampered


@pytest.mark.parametrize("encoding", ["onehot", "hash"])
def test_save_load_round_trip_is_bit_identical(fitted_pre, dataset_b, tmp_path, encoding):
    df, y = dataset_b
    chain = _chain(fitted_pre, encoding).fit(df, y)
    path = tmp_path / "chain.skchain"
    skchain.save(chain, path)
    loaded = skchain.load(path, trusted=[BUILDER])
    np.testing.assert_array_equal(loaded.predict(df), chain.predict(df))
    assert type(loaded) is type(chain)
    frozen = loaded.named_steps["features"]
    assert frozen.transformers[0][1].estimator is frozen.transformers_[0][1].estimator
    with zipfile.ZipFile(path) as archive:
        assert {"skchain.json", "estimator.skops", "models/0.keras", "models/1.keras"} <= set(
            archive.namelist()
        )
        assert not any(name.endswith((".pkl", ".joblib")) for name in archive.namelist())


def test_save_load_in_a_fresh_process(fitted_pre, dataset_b, tmp_path):
    df, y = dataset_b
    chain = _chain(fitted_pre, "onehot").fit(df, y)
    skchain.save(chain, tmp_path / "chain.skchain")
    np.save(tmp_path / "expected.npy", chain.predict(df))
    df.to_pickle(tmp_path / "df.pkl")
    out = run_fresh(f"""
        import numpy as np, pandas as pd, skchain
        chain = skchain.load({str(tmp_path / "chain.skchain")!r}, trusted=[{BUILDER!r}])
        pred = chain.predict(pd.read_pickle({str(tmp_path / "df.pkl")!r}))
        assert np.array_equal(pred, np.load({str(tmp_path / "expected.npy")!r}))
        print("identical")
    """)
    assert "identical" in out


# The frozen wrapper is fitted on dataset A's own rows here, on purpose.
@pytest.mark.filterwarnings("ignore::skchain.DataLeakageWarning")
def test_each_estimator_round_trips(fitted_pre, dataset_a, dataset_b, tmp_path):
    X, _ = dataset_a
    df, _ = dataset_b
    wrapped = KerasTransformer.from_model(fitted_pre.model_, scaler=fitted_pre.scaler_)
    regressor = ChainRegressor(epochs=1, random_state=0).fit(X, X[:, 0])
    frozen = FrozenTransformer(fitted_pre).fit(X)
    hasher = HashingEncoder(n_features=8).fit(df[["store"]])
    cases = [
        (fitted_pre, lambda e: e.transform(X)),
        (wrapped, lambda e: e.transform(X)),
        (regressor, lambda e: e.predict(X)),
        (frozen, lambda e: e.transform(X)),
        (hasher, lambda e: e.transform(df[["store"]])),
    ]
    for i, (estimator, output) in enumerate(cases):
        skchain.save(estimator, tmp_path / f"{i}.skchain")
        loaded = skchain.load(tmp_path / f"{i}.skchain", trusted=[BUILDER])
        np.testing.assert_array_equal(output(loaded), output(estimator))
        joblib.dump(estimator, tmp_path / f"{i}.joblib")
        np.testing.assert_array_equal(
            output(joblib.load(tmp_path / f"{i}.joblib")), output(estimator)
        )
    # from_model's network is a parameter and the fitted network at once: stored once.
    with zipfile.ZipFile(tmp_path / "1.skchain") as archive:
        assert [n for n in archive.namelist() if n.startswith("models/")] == ["models/0.keras"]


@pytest.mark.filterwarnings("ignore::skchain.DataLeakageWarning")
def test_joblib_of_every_estimator_in_a_fresh_process(fitted_pre, dataset_a, tmp_path):
    X, y = dataset_a
    estimators = {
        "pre": fitted_pre,
        "regressor": ChainRegressor(epochs=1, random_state=0).fit(X, y),
        "frozen": FrozenTransformer(fitted_pre).fit(X),
    }
    for name, est in estimators.items():
        joblib.dump(est, tmp_path / f"{name}.joblib")
        method = est.predict if name == "regressor" else est.transform
        np.save(tmp_path / f"{name}.npy", method(X))
    np.save(tmp_path / "X.npy", X)
    out = run_fresh(f"""
        import joblib, numpy as np
        X = np.load({str(tmp_path / "X.npy")!r})
        for name in ["pre", "regressor", "frozen"]:
            est = joblib.load({str(tmp_path)!r} + f"/{{name}}.joblib")
            got = est.predict(X) if name == "regressor" else est.transform(X)
            assert np.array_equal(got, np.load({str(tmp_path)!r} + f"/{{name}}.npy")), name
        print("identical")
    """)
    assert "identical" in out


def test_untrusted_builder_is_refused_until_named(fitted_pre, tmp_path):
    skchain.save(fitted_pre, tmp_path / "pre.skchain")
    with pytest.raises(
        UntrustedFileError, match=r"refers to \['conftest.build_network_a'\].*trusted=\[...\]"
    ):
        skchain.load(tmp_path / "pre.skchain")
    assert skchain.load(tmp_path / "pre.skchain", trusted=[BUILDER]).n_features_in_ == 6
    # The function itself, or one name alone, works as well; anything else is named.
    assert skchain.load(tmp_path / "pre.skchain", trusted=[build_network_a]).n_features_in_ == 6
    assert skchain.load(tmp_path / "pre.skchain", trusted=BUILDER).n_features_in_ == 6
    with pytest.raises(TypeError, match=r"trusted= takes dotted names.*got 3"):
        skchain.load(tmp_path / "pre.skchain", trusted=[3])


def test_tampered_archives_are_refused(fitted_pre, tmp_path):
    path = tmp_path / "pre.skchain"
    skchain.save(fitted_pre, path)
    # Code smuggled in as a function reference.
    with pytest.raises(UntrustedFileError, match="posix.system|os.system"):
        skchain.load(
            _rewrite(path, "estimator.skops", sio.dumps({"run": os.system})), trusted=[BUILDER]
        )
    # A pickle payload instead of skops data.
    with pytest.raises(UntrustedFileError, match="not skops data"):
        skchain.load(_rewrite(path, "estimator.skops", pickle.dumps(fitted_pre)), trusted=[BUILDER])
    # A network with a Lambda layer (arbitrary Python code).
    inputs = keras.Input((6,))
    lam = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    lam.save(tmp_path / "lambda.keras")
    tampered = _rewrite(path, "models/0.keras", (tmp_path / "lambda.keras").read_bytes())
    with pytest.raises(UntrustedFileError, match="safe_mode"):
        skchain.load(tampered, trusted=[BUILDER])
    # Not an archive at all.
    (tmp_path / "junk.skchain").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(UntrustedFileError, match="not a skchain archive"):
        skchain.load(tmp_path / "junk.skchain")


def test_other_library_versions_warn(fitted_pre, tmp_path):
    path = tmp_path / "pre.skchain"
    skchain.save(fitted_pre, path)
    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read("skchain.json"))
    assert set(meta["versions"]) >= {"skchain", "scikit-learn", "keras", "tensorflow"}
    meta["versions"]["scikit-learn"] = "0.1.0"
    old = _rewrite(path, "skchain.json", json.dumps(meta))
    with pytest.warns(SkchainVersionWarning, match=r"scikit-learn 0.1.0 \(saved\) vs"):
        skchain.load(old, trusted=[BUILDER])
