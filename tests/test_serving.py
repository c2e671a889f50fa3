"""The fitted chain as one servable model: to_keras, SavedModel, ONNX, Dask scoring.

Every artifact is compared with ``chain.predict`` (``predict_proba`` for a
classifier) on rows that include unseen levels, missing levels and missing
numbers, and loaded in a fresh process that never imports skchain (the ONNX
one without TensorFlow either).
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from skchain import ChainClassifier, ChainRegressor, FineTune, make_chain

A_COLUMNS = [f"a{i}" for i in range(6)]
TESTS = str(Path(__file__).parent)


def _with_categories(df, seed=3):
    """B plus a 'city' column with rare levels and missing values, and missing ages."""
    rng = np.random.default_rng(seed)
    df = df.copy()
    df["city"] = rng.choice(
        ["Oslo", "Rome", "Paris", "Lima", None], size=len(df), p=[0.4, 0.3, 0.2, 0.03, 0.07]
    )
    df["age"] = df["age"].astype(float)
    df.loc[df.index[::9], "age"] = np.nan
    return df


def _new_rows(df):
    """Rows to serve: unseen and missing levels, a missing age, spellings of every kind."""
    new = df.iloc[:24].copy()
    new.loc[new.index[:3], "store"] = "west"  # never seen
    new.loc[new.index[3:5], "city"] = None
    new.loc[new.index[5], "city"] = "Lima"  # infrequent
    new.loc[new.index[6], "age"] = np.nan
    return new


def _chain(pre, final=None, **kwargs):
    return make_chain(
        pre,
        representation_columns=A_COLUMNS,
        categorical_columns=["store", "city"],
        categorical_encoding=kwargs.pop(
            "categorical_encoding", {"store": "onehot", "city": "embed"}
        ),
        numeric_columns=["age"],
        numeric_imputer="median",
        min_frequency=5,
        **(
            {"regressor": final}
            if final is None or not isinstance(final, ChainClassifier)
            else {"classifier": final}
        ),
        **kwargs,
    )


def _custom_network(meta, compile_kwargs):
    inputs = keras.Input((meta["n_features_in_"],))
    model = keras.Model(
        inputs, keras.layers.Dense(1)(keras.layers.Dense(4, activation="relu")(inputs))
    )
    model.compile(**compile_kwargs)
    return model


@pytest.fixture(scope="module")
def data(dataset_b):
    df, y = dataset_b
    df = _with_categories(df)
    return df, y, _new_rows(df)


@pytest.fixture(scope="module")
def chains(fitted_pre, data):
    """The chains served here: every encoding, fine-tuned, custom final network, classifier."""
    df, y, _ = data
    labels = np.where(y > np.median(y), "high", "low")
    return {
        "encodings": _chain(fitted_pre, ChainRegressor(epochs=2, random_state=0)).fit(df, y),
        "fine_tuned": _chain(
            fitted_pre,
            ChainRegressor(epochs=2, random_state=0),
            fine_tune=FineTune(epochs=1, learning_rate=1e-3),
        ).fit(df, y),
        "custom": _chain(
            fitted_pre, ChainRegressor(model=_custom_network, epochs=2, random_state=0)
        ).fit(df, y),
        "classifier": _chain(fitted_pre, ChainClassifier(epochs=2, random_state=0)).fit(df, labels),
    }


def _expected(chain, rows):
    return chain.predict_proba(rows) if hasattr(chain, "predict_proba") else chain.predict(rows)


@pytest.mark.parametrize("kind", ["encodings", "fine_tuned", "custom", "classifier"])
def test_to_keras_equals_predict(chains, data, kind):
    chain = chains[kind]
    _, _, new = data
    model = chain.to_keras()
    inputs = chain.serving_inputs(new)
    assert sorted(inputs) == sorted([*A_COLUMNS, "store", "city", "age"])
    assert {x.name: x.dtype for x in model.inputs}["city"] == "string"
    assert all(tuple(x.shape) == (None, 1) for x in model.inputs)
    served = np.asarray(model(inputs))
    expected = _expected(chain, new)
    assert served.shape == expected.shape
    np.testing.assert_allclose(served, expected, rtol=1e-5, atol=1e-6)
    # An independent copy: training it leaves the chain as it was.
    weighted = [layer for layer in model.layers if layer.weights][-1]
    weighted.set_weights([w * 0 for w in weighted.get_weights()])
    np.testing.assert_array_equal(_expected(chain, new), expected)


def test_levels_are_served_as_the_fitted_encoders_treat_them(chains, data):
    chain = chains["encodings"]
    _, _, new = data
    inputs = chain.serving_inputs(new)
    assert inputs["store"][0, 0] == "west" and inputs["city"][3, 0] == "<missing>"
    model = chain.to_keras()
    # Levels are text as CategoricalLevels spells them, whatever the column's dtype.
    as_category = new.astype({"city": "category", "store": "category"})
    np.testing.assert_array_equal(chain.serving_inputs(as_category)["city"], inputs["city"])
    np.testing.assert_allclose(
        np.asarray(model(chain.serving_inputs(as_category))),
        chain.predict(as_category),
        rtol=1e-5,
        atol=1e-6,
    )


def test_hash_columns_are_refused_with_the_column_and_what_exports(fitted_pre, data):
    df, y, _ = data
    chain = _chain(
        fitted_pre,
        ChainRegressor(epochs=1, random_state=0),
        categorical_encoding={"store": "hash", "city": "onehot"},
    ).fit(df, y)
    for call in (chain.to_keras, lambda: chain.export("unused", format="onnx")):
        with pytest.raises(ValueError, match=r"\['store'\].*'onehot' or 'embed'"):
            call()


def test_export_refuses_unknown_formats_and_unfitted_chains(chains, fitted_pre, tmp_path):
    with pytest.raises(ValueError, match="format='pmml'; expected one of"):
        chains["encodings"].export(tmp_path / "m", format="pmml")
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        _chain(fitted_pre).to_keras()


def _run_fresh(code, tmp_path):
    """Run ``code`` in a fresh interpreter; returns its stdout's last line as JSON."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ""}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _write_inputs(chain, rows, path):
    np.savez(
        path,
        **{
            k: v.astype(str) if v.dtype == object else v
            for k, v in chain.serving_inputs(rows).items()
        },
    )


def test_artifacts_predict_in_fresh_processes_without_skchain(chains, data, tmp_path):
    _, _, new = data
    expected = {}
    for kind, chain in chains.items():
        chain.export(tmp_path / f"{kind}_saved_model")
        chain.export(tmp_path / f"{kind}.onnx", format="onnx")
        _write_inputs(chain, new, tmp_path / f"{kind}_inputs.npz")
        expected[kind] = _expected(chain, new)
    loader = """
        import json, sys
        import numpy as np
        out = {{}}
        for kind in {kinds!r}:
            inputs = dict(np.load(kind + "_inputs.npz"))
            inputs = {{k: v.astype(object) if v.dtype.kind == "U" else v
                      for k, v in inputs.items()}}
            {predict}
            out[kind] = np.asarray(predictions).tolist()
        assert "skchain" not in sys.modules
        {check}
        print(json.dumps(out))
    """
    saved_model = _run_fresh(
        loader.format(
            kinds=list(chains),
            check="",
            predict=(
                "import tensorflow as tf; served = tf.saved_model.load(kind + '_saved_model'); "
                "tensors = {k: tf.constant(v) for k, v in inputs.items()}; "
                "(predictions,) = served.serve(tensors).values()"
            ),
        ),
        tmp_path,
    )
    onnx = _run_fresh(
        loader.format(
            kinds=list(chains),
            check="assert 'tensorflow' not in sys.modules",
            predict=(
                "import onnxruntime as ort; predictions = ort.InferenceSession(kind + '.onnx')"
                ".run(None, inputs)[0]"
            ),
        ),
        tmp_path,
    )
    for kind in chains:
        np.testing.assert_allclose(
            saved_model[kind], expected[kind], rtol=1e-5, atol=1e-6, err_msg=kind
        )
        np.testing.assert_allclose(onnx[kind], expected[kind], rtol=1e-5, atol=1e-6, err_msg=kind)


def test_saved_model_signature_names_the_columns(chains, tmp_path):
    import tensorflow as tf

    chains["classifier"].export(tmp_path / "served")
    served = tf.saved_model.load(str(tmp_path / "served"))
    _, specs = served.signatures["serving_default"].structured_input_signature
    assert set(specs) == {*A_COLUMNS, "store", "city", "age"}
    assert specs["store"].dtype == tf.string and specs["a0"].shape.as_list() == [None, 1]
    outputs = served.signatures["serving_default"].structured_outputs
    assert list(outputs) == ["probabilities"]


@pytest.fixture
def worker_environment(monkeypatch):
    # Workers unpickle network A, whose builder lives in tests/conftest.py.
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [TESTS, os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")


def test_dask_partitions_scored_on_a_local_cluster_equal_pandas(chains, data, worker_environment):
    distributed = pytest.importorskip("distributed")
    import dask.dataframe as dd

    from skchain.partitions import predict_partitions

    df, _, _ = data
    regressor, classifier = chains["encodings"], chains["classifier"]
    frame = dd.from_pandas(df, npartitions=3)
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
        predictions = predict_partitions(regressor, frame).compute()
        labels = predict_partitions(classifier, frame).compute()
        proba = predict_partitions(classifier, frame, method="predict_proba").compute()
    assert isinstance(predictions, pd.Series) and predictions.index.equals(df.index)
    np.testing.assert_allclose(predictions.to_numpy(), regressor.predict(df), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(labels.to_numpy(), classifier.predict(df))
    assert list(proba.columns) == ["high", "low"]
    np.testing.assert_allclose(proba.to_numpy(), classifier.predict_proba(df), rtol=1e-5, atol=1e-6)


def test_predict_partitions_names_what_it_expected(chains, data):
    from skchain.partitions import predict_partitions

    df, _, _ = data
    with pytest.raises(TypeError, match="expected a dask DataFrame; got DataFrame"):
        predict_partitions(chains["encodings"], df)
    pytest.importorskip("dask")
    import dask.dataframe as dd

    with pytest.raises(ValueError, match="method='score'"):
        predict_partitions(chains["encodings"], dd.from_pandas(df, npartitions=2), method="score")


def test_only_the_blocks_package_reads_the_features_step():
    """Only skchain/blocks/ reads a fitted ColumnTransformer's ``transformers_``;
    outside it no code switches on a block's kind, and block-name prefixes are
    read in one function (for a final stage fitted outside a chain)."""
    import re

    import skchain

    package = Path(skchain.__file__).parent
    sources = {str(path.relative_to(package)): path.read_text() for path in package.rglob("*.py")}
    readers = sorted(
        name
        for name, text in sources.items()
        if re.search(r"(?<!named_)transformers_\b(?!`)", text)
    )
    assert readers and all(name.startswith("blocks/") for name in readers), readers
    kinds = "representation|network_a_inputs|numeric|onehot|embedded|hashed|sequence|other"
    switches = sorted(
        name
        for name, text in sources.items()
        if (
            re.search(r"(?<!dtype)(?<!parameter)\.kind\b", text)
            or re.search(rf"\bkind\)? *(==|!=|in|not in) *\(?\"({kinds})\"", text)
        )
        and not name.startswith("blocks/")
    )
    assert switches == [], switches
    prefix_parsers = sorted(
        name for name, text in sources.items() if "name.startswith(prefix)" in text
    )
    assert prefix_parsers == ["blocks/layout.py"]
    assert "def _block_kind" not in sources["_network.py"]


def test_export_from_the_command_line(chains, data, tmp_path):
    import joblib
    import onnxruntime

    chain = chains["encodings"]
    joblib.dump(chain, tmp_path / "chain.joblib")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": TESTS}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "skchain",
            "export",
            "chain.joblib",
            "chain.onnx",
            "--format",
            "onnx",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "wrote chain.onnx (onnx)"
    _, _, new = data
    served = onnxruntime.InferenceSession(str(tmp_path / "chain.onnx")).run(
        None, chain.serving_inputs(new)
    )
    np.testing.assert_allclose(served[0], chain.predict(new), rtol=1e-5, atol=1e-6)
