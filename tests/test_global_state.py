"""No process-wide random state is left behind, checked the way users meet it.

Each test runs a fresh Python process, so that the seeded fit really is the
first TensorFlow work of the process (the case in which scikeras' own seeding
used to leave TensorFlow's op determinism on for good, and every unseeded
random op afterwards raised ``Random ops require a seed``).
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from skchain._seeding import global_random_state, random_state_kept

PRELUDE = textwrap.dedent("""
    import json, random, sys
    import numpy as np
    sys.path.insert(0, {tests!r})
    from conftest import build_network_a, make_dataset_a, make_dataset_b
    X, y = make_dataset_a(120)
    df, y_b = make_dataset_b(90)
    COLUMNS = [f"a{{i}}" for i in range(6)]

    def python_and_numpy():
        return [hash(random.getstate()), np.random.get_state()[1].tobytes().hex()[:64],
                int(np.random.get_state()[2])]

    def tf_settings():
        from tensorflow.python.eager import context
        from tensorflow.python.framework import config
        return [bool(config.is_op_determinism_enabled()), context.global_seed()]

    def seeded_fit(seed=0):
        from skchain import KerasTransformer
        return KerasTransformer(build_network_a, output_layer="embedding", loss="mse",
                                epochs=2, random_state=seed).fit(X, y)

    def unseeded_work(pre):
        import keras
        from skchain import ChainRegressor, KerasTransformer, make_chain
        ChainRegressor(dropout=0.1, epochs=1, hidden_units=(8,)).fit(X, y)
        KerasTransformer(build_network_a, loss="mse", epochs=1).fit(X, y)
        inputs = keras.Input((6,))
        hidden = keras.layers.Dropout(0.2)(keras.layers.Dense(8, activation="relu")(inputs))
        plain = keras.Model(inputs, keras.layers.Dense(1)(hidden))
        plain.compile(optimizer="adam", loss="mse")
        plain.fit(X, y, epochs=1, verbose=0)
        make_chain(pre, representation_columns=COLUMNS, categorical_columns=["store"],
                   numeric_columns=["age"],
                   regressor=ChainRegressor(dropout=0.2, epochs=1)).fit(df, y_b)
""")


def _run(script, tmp_path):
    tests = os.path.dirname(os.path.abspath(__file__))
    code = PRELUDE.format(tests=tests) + textwrap.dedent(script)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_DETERMINISTIC_OPS", None)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_seeded_fit_first_then_unseeded_work(tmp_path):
    out = _run(
        """
        before = python_and_numpy()
        pre = seeded_fit()                      # the first TensorFlow work of the process
        after = python_and_numpy()
        settings = tf_settings()
        unseeded_work(pre)                      # raised RuntimeError before the fix
        print(json.dumps({"same": before == after, "tf": settings}))
    """,
        tmp_path,
    )
    assert out["same"], "a seeded fit changed Python's or NumPy's global random state"
    assert out["tf"] == [False, None], "a seeded fit left op determinism or a global seed set"


def test_unseeded_work_first_then_seeded_fit(tmp_path):
    out = _run(
        """
        from skchain import KerasTransformer
        pre = KerasTransformer(build_network_a, output_layer="embedding", loss="mse",
                               epochs=1).fit(X, y)
        unseeded_work(pre)
        before = python_and_numpy()
        seeded_fit()
        after = python_and_numpy()
        unseeded_work(pre)
        print(json.dumps({"same": before == after, "tf": tf_settings()}))
    """,
        tmp_path,
    )
    assert out["same"] and out["tf"] == [False, None]


def test_seeded_results_repeat_with_unseeded_fits_between(tmp_path):
    out = _run(
        """
        from skchain import ChainRegressor, make_chain
        def seeded_chain():
            pre = seeded_fit(3)
            chain = make_chain(pre, representation_columns=COLUMNS, categorical_columns=["store"],
                               numeric_columns=["age"],
                               regressor=ChainRegressor(dropout=0.2, epochs=3, random_state=5))
            return chain.fit(df, y_b).predict(df).tolist()
        first = seeded_chain()
        unseeded_work(seeded_fit(1))
        second = seeded_chain()
        print(json.dumps({"equal": first == second}))
    """,
        tmp_path,
    )
    assert out["equal"]


def test_predict_transform_save_load_leave_state_alone(tmp_path):
    out = _run(
        """
        import joblib, skchain
        from skchain import ChainRegressor, FineTune, make_chain
        from skchain._seeding import global_random_state
        pre = seeded_fit()
        chain = make_chain(pre, representation_columns=COLUMNS, categorical_columns=["store"],
                           numeric_columns=["age"], fine_tune=FineTune(epochs=1),
                           regressor=ChainRegressor(dropout=0.2, epochs=1, random_state=0))
        chain.fit(df, y_b)
        snapshots = [global_random_state()]
        chain.predict(df); pre.transform(X); chain.score(df, y_b)
        snapshots.append(global_random_state())
        joblib.dump(chain, "chain.joblib"); skchain.save(chain, "chain.skchain")
        snapshots.append(global_random_state())
        joblib.load("chain.joblib").predict(df)
        skchain.load("chain.skchain", trusted=["conftest.build_network_a"]).predict(df)
        snapshots.append(global_random_state())
        print(json.dumps({"changed": [[k for k in s if s[k] != snapshots[0][k]]
                                      for s in snapshots[1:]],
                          "determinism": snapshots[0]["op_determinism"]}))
    """,
        tmp_path,
    )
    assert out["changed"] == [[], [], []]
    assert out["determinism"] is False


def test_random_state_kept_restores_a_users_own_settings():
    import keras

    keras.utils.set_random_seed(123)
    before = global_random_state()
    with random_state_kept(7):
        np.random.random(), keras.random.uniform((2,))
    assert global_random_state() == before
    # Unseeded: the global generators advance as for scikit-learn's estimators.
    with random_state_kept(None):
        np.random.random()
    assert global_random_state()["numpy_random"] != before["numpy_random"]


@pytest.mark.parametrize("seeded", [True, False])
def test_fine_tuning_leaves_global_seeds_alone(fitted_pre, dataset_b, seeded):
    from skchain import ChainRegressor, FineTune, make_chain

    df, y = dataset_b
    chain = make_chain(
        fitted_pre,
        representation_columns=[f"a{i}" for i in range(6)],
        regressor=ChainRegressor(epochs=1, random_state=0 if seeded else None),
        fine_tune=FineTune(epochs=1),
    )
    before = global_random_state()
    chain.fit(df, y)
    after = global_random_state()
    assert after["tf_global_seed"] == before["tf_global_seed"]
    assert after["op_determinism"] == before["op_determinism"]
    if seeded:
        assert after == before
