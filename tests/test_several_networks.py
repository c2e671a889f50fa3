"""Several networks A in one chain: ``make_chain(representations=...)``.

Two networks A trained on two different datasets, with the same Keras model
and layer names (a user's one builder used twice), read overlapping columns
of B. Every path (step by step, compiled predict, to_keras, SavedModel, ONNX,
a chain reloaded in a fresh process, Dask partitions) must give the same
numbers; each network is searchable, fine-tunable alone, and left as the user
trained it.
"""

import os
from pathlib import Path

import joblib
import keras
import numpy as np
import pandas as pd
import pytest
from conftest import exported_answers, run_fresh
from sklearn.model_selection import GridSearchCV

import skchain
from skchain import ChainRegressor, FineTune, KerasTransformer, make_chain

TESTS = str(Path(__file__).parent)
LEFT = [f"a{i}" for i in range(6)]
RIGHT = ["a5", "b0", "b1"]  # a5 feeds both networks


def build_named(meta):
    """The same model and layer names for both networks A."""
    inputs = keras.Input((meta["n_features_in_"],), name="inputs")
    x = keras.layers.Dense(8, activation="relu", name="hidden")(inputs)
    x = keras.layers.Dense(4, activation="relu", name="embedding")(x)
    return keras.Model(inputs, keras.layers.Dense(1, name="head")(x), name="network_a")


def _network(X, y):
    return KerasTransformer(
        build_named,
        output_layer="embedding",
        loss="mse",
        epochs=8,
        optimizer__learning_rate=0.01,
        random_state=0,
    ).fit(X, y)


@pytest.fixture(scope="module")
def networks():
    rng = np.random.default_rng(5)
    # Drawn as B's columns are (conftest: a_i ~ 3 N(0, 1) + 1; b0, b1 ~ N(0, 1)).
    left = pd.DataFrame(rng.normal(size=(400, 6)) * 3 + 1, columns=LEFT)
    right = pd.DataFrame(rng.normal(size=(300, 3)) * [3, 1, 1] + [1, 0, 0], columns=RIGHT)
    return {
        "left": _network(left, left["a0"] - 2 * left["a1"] + left["a2"] * left["a3"] / 3),
        "right": _network(right, right["b0"] * right["b1"] + right["a5"]),
    }


@pytest.fixture(scope="module")
def data(dataset_b):
    df, y = dataset_b
    rng = np.random.default_rng(6)
    df = df.assign(b0=rng.normal(size=len(df)), b1=rng.normal(size=len(df)))
    y = y + df["b0"].to_numpy() * df["b1"].to_numpy()
    new = df.iloc[:20].copy()
    new.loc[new.index[:2], "store"] = "west"  # never seen
    return df, y, new


def _chain(networks, **kwargs):
    return make_chain(
        representations={"left": (networks["left"], LEFT), "right": networks["right"]},
        categorical_columns=["store"],
        categorical_encoding="embed",
        numeric_columns=["age"],
        regressor=ChainRegressor(epochs=2, random_state=0),
        **kwargs,
    )


@pytest.fixture(scope="module")
def fitted(networks, data):
    df, y, _ = data
    return _chain(networks).fit(df, y)


def _weights(network):
    return [w.copy() for w in network.model_.get_weights()]


def test_one_block_and_one_branch_per_network(fitted, data):
    df, _, new = data
    names = [name for name, _, _ in fitted.named_steps["features"].transformers_]
    assert names[:4] == ["left", "left_inputs", "right", "right_inputs"]
    assert [name for name, _, _ in fitted.named_steps["regressor"].input_blocks_] == names
    step_by_step = fitted.named_steps["regressor"].predict(
        fitted.named_steps["features"].transform(new)
    )
    np.testing.assert_allclose(fitted.predict(new), step_by_step, rtol=1e-5, atol=1e-6)
    assert set(fitted.category_embeddings()) == {"store"}
    # Each network A has its own frozen step, with its own drift report on its own columns.
    frozen = fitted.named_steps["features"].named_transformers_
    left, right = frozen["left"].shift_report(df), frozen["right"].shift_report(df)
    assert set(left["feature"]) >= set(LEFT) and not set(left["feature"]) & {"b0", "b1"}
    assert set(right["feature"]) >= set(RIGHT) and not set(right["feature"]) & {"a0", "a1"}


def test_exports_equal_predict(fitted, data, tmp_path):
    _, _, new = data
    expected = fitted.predict(new)
    inputs = fitted.serving_inputs(new)
    assert sorted(inputs) == sorted([*LEFT, "b0", "b1", "store", "age"])
    np.testing.assert_allclose(
        np.asarray(fitted.to_keras()(inputs)), expected, rtol=1e-5, atol=1e-6
    )
    for out in exported_answers(fitted, inputs, tmp_path):  # SavedModel, ONNX
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_each_network_is_searchable(networks, data):
    df, y, _ = data
    grid = {"features__right__output_layer": ["hidden", "embedding"]}
    search = GridSearchCV(_chain(networks), grid, cv=2).fit(df, y)
    assert len(search.cv_results_["mean_test_score"]) == 2
    best = search.best_estimator_
    width = {"hidden": 8, "embedding": 4}[search.best_params_["features__right__output_layer"]]
    assert (
        dict((n, b - a) for n, a, b in best.named_steps["regressor"].input_blocks_)["right"]
        == width
    )


@pytest.mark.parametrize("tuned", [None, ["right"]])
def test_fine_tuning_all_or_named_networks(networks, data, tuned):
    df, y, new = data
    before = {name: _weights(net) for name, net in networks.items()}
    chain = _chain(networks, fine_tune=FineTune(epochs=1, learning_rate=1e-3, networks=tuned))
    chain.fit(df, y)
    assert set(chain.fine_tuned_["networks"]) == set(tuned or ["left", "right"])
    frozen = chain.named_steps["features"].named_transformers_
    for name, net in networks.items():
        for kept, now in zip(before[name], _weights(net), strict=False):
            np.testing.assert_array_equal(kept, now)  # the user's networks never move
        assert (frozen[name].estimator is net) == (tuned is not None and name not in tuned)
    tuned_right = frozen["right"].estimator.model_.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(tuned_right, before["right"], strict=False))
    expected = chain.predict(new)
    step_by_step = chain.named_steps["regressor"].predict(
        chain.named_steps["features"].transform(new)
    )
    np.testing.assert_allclose(expected, step_by_step, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        np.asarray(chain.to_keras()(chain.serving_inputs(new))), expected, rtol=1e-5, atol=1e-6
    )


def test_saved_and_reloaded_in_a_fresh_process(fitted, data, tmp_path):
    _, _, new = data
    joblib.dump(fitted, tmp_path / "chain.joblib")
    skchain.save(fitted, tmp_path / "chain.skchain")
    new.to_pickle(tmp_path / "new.pkl")
    np.save(tmp_path / "expected.npy", fitted.predict(new))
    run_fresh(f"""
        import joblib, numpy as np, pandas as pd, skchain
        new = pd.read_pickle({str(tmp_path / "new.pkl")!r})
        expected = np.load({str(tmp_path / "expected.npy")!r})
        loaded = skchain.load({str(tmp_path / "chain.skchain")!r},
                              trusted=["test_several_networks.build_named"])
        np.testing.assert_array_equal(loaded.predict(new), expected)
        np.testing.assert_array_equal(joblib.load({str(tmp_path / "chain.joblib")!r}).predict(new),
                                      expected)
    """)


def test_dask_partitions_equal_pandas(fitted, data, monkeypatch):
    distributed = pytest.importorskip("distributed")
    import dask.dataframe as dd

    from skchain.partitions import predict_partitions

    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [TESTS, os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    df, _, _ = data
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster),
    ):
        predictions = predict_partitions(fitted, dd.from_pandas(df, npartitions=2)).compute()
    np.testing.assert_allclose(predictions.to_numpy(), fitted.predict(df), rtol=1e-5, atol=1e-6)


def test_bad_representations_are_named(networks):
    left = networks["left"]
    cases = [
        (dict(representations={"numeric": left}), ValueError, r"\['numeric'\] taken"),
        (dict(representations={"remainder": left}), ValueError, r"\['remainder'\] taken"),
        (dict(representations={"x": left, "x_inputs": left}), ValueError, r"\['x_inputs'\] taken"),
        (dict(representations={"x": (left, "a0")}), TypeError, "must be a list .*got str 'a0'"),
        (dict(representations={"a__b": left}), ValueError, "without '__'"),
        (dict(representations={}), TypeError, "non-empty dict"),
        (dict(representations={"x": (left, LEFT, None, 1)}), ValueError, "sequence of 4"),
        (
            dict(representations={"x": "left"}),
            TypeError,
            r"representations\['x'\] must be a fitted",
        ),
        (
            dict(representations={"x": left}, representation_columns=LEFT),
            ValueError,
            "in its entry",
        ),
        (dict(preprocessor=left, representations={"x": left}), ValueError, "not both"),
        (dict(), ValueError, "pass network A as preprocessor"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            make_chain(**kwargs)


def test_fine_tune_names_unknown_networks(networks, data):
    df, y, _ = data
    chain = _chain(networks, fine_tune=FineTune(epochs=1, networks=["middle"]))
    with pytest.raises(
        ValueError, match=r"networks=\['middle'\]; expected names .*\['left', 'right'\]"
    ):
        chain.fit(df, y)
    assert not hasattr(chain, "fine_tuned_") and not hasattr(
        chain.named_steps["regressor"], "model_"
    )


def test_plot_history_draws_each_network(fitted):
    matplotlib = pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from skchain.plot import plot_history

    with matplotlib.rc_context({"backend": "Agg"}):
        figure = plot_history(fitted)
        titles = [ax.get_title() for ax in figure.axes]
        plt.close(figure)
    for network in ("network A 'left'", "network A 'right'", "final network"):
        assert any(title.startswith(network) for title in titles), titles


def test_new_rows_run_every_network_in_one_graph(fitted, data, monkeypatch):
    _, _, new = data
    rows = new.assign(b0=new["b0"] + 0.25, a0=new["a0"] - 0.25)  # rows no cache has seen

    def outside_the_graph(self, X, layer_name=None):
        raise AssertionError("a network A ran outside the compiled graph")

    with monkeypatch.context() as patch:
        patch.setattr(KerasTransformer, "representation", outside_the_graph)
        predicted = fitted.predict(rows)
    step_by_step = fitted.named_steps["regressor"].predict(
        fitted.named_steps["features"].transform(rows)
    )
    np.testing.assert_allclose(predicted, step_by_step, rtol=1e-5, atol=1e-6)


def test_one_network_under_two_names_is_served(networks, data):
    df, y, new = data
    right = networks["right"]
    chain = make_chain(
        representations={"one": right, "two": (right, RIGHT)},
        regressor=ChainRegressor(epochs=1, random_state=0),
    ).fit(df, y)
    np.testing.assert_allclose(
        np.asarray(chain.to_keras()(chain.serving_inputs(new))),
        chain.predict(new),
        rtol=1e-5,
        atol=1e-6,
    )
