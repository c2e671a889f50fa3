"""scikit-learn's callback API: fit is a task, each Keras epoch a sub-task."""

import numpy as np

from skchain import ChainRegressor, KerasTransformer


class Recorder:
    """A scikit-learn fit callback that records the tasks and can stop training."""

    def __init__(self, stop_after_epoch=None):
        self.stop_after_epoch = stop_after_epoch
        self.events = []

    def setup(self, estimator, context):
        self.events.append(("setup", context.task_name))

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None):
        self.events.append(("begin", context.task_name))

    def on_fit_task_end(self, estimator, context, *, metadata=None):
        self.events.append(("end", context.task_name))
        epoch = (metadata or {}).get("epoch")
        return self.stop_after_epoch is not None and epoch == self.stop_after_epoch

    def teardown(self, estimator, context):
        self.events.append(("teardown", context.task_name))


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)).astype(np.float32)
    return X, X @ np.array([1.0, -1.0, 0.5], dtype=np.float32)


def test_each_epoch_is_a_task_of_fit():
    X, y = _data()
    recorder = Recorder()
    regressor = ChainRegressor(epochs=3, hidden_units=(4,), random_state=0).set_callbacks(recorder)
    regressor.fit(X, y)
    assert recorder.events == [
        ("setup", "fit"),
        ("begin", "fit"),
        ("begin", "epoch 1"),
        ("end", "epoch 1"),
        ("begin", "epoch 2"),
        ("end", "epoch 2"),
        ("begin", "epoch 3"),
        ("end", "epoch 3"),
        ("end", "fit"),
        ("teardown", "fit"),
    ]
    # Nothing of the callback machinery stays on the fitted estimator.
    assert not any("callback_fit_ctx" in k or "epoch_tasks" in k for k in vars(regressor))
    assert all(type(c).__name__ != "_EpochTasks" for c in regressor._fit_callbacks)
    regressor.predict(X)


def test_a_callback_can_stop_training():
    X, y = _data()
    regressor = ChainRegressor(epochs=10, hidden_units=(4,), random_state=0)
    regressor.set_callbacks(Recorder(stop_after_epoch=2)).fit(X, y)
    assert len(regressor.history_["loss"]) == 2


def test_network_a_reports_epochs_too():
    X, y = _data()
    recorder = Recorder()
    pre = KerasTransformer(
        lambda meta: _network(meta), loss="mse", epochs=2, random_state=0
    ).set_callbacks(recorder)
    pre.fit(X, y)
    assert [e for e in recorder.events if e[0] == "end"] == [
        ("end", "epoch 1"),
        ("end", "epoch 2"),
        ("end", "fit"),
    ]


def _network(meta):
    import keras

    inputs = keras.Input((meta["n_features_in_"],))
    hidden = keras.layers.Dense(4, name="embedding")(inputs)
    return keras.Model(inputs, keras.layers.Dense(1)(hidden))


def test_scikit_learns_progress_bar_runs_on_the_final_network():
    from sklearn.callback import ProgressBar

    X, y = _data()
    regressor = ChainRegressor(epochs=3, hidden_units=(4,), random_state=0)
    regressor.set_callbacks(ProgressBar()).fit(X, y)
    assert len(regressor.history_["loss"]) == 3


def test_progress_bar_on_the_chain_reaches_the_final_network(fitted_pre, dataset_b):
    from sklearn.callback import ProgressBar

    from skchain import make_chain

    df, y = dataset_b
    chain = make_chain(
        fitted_pre,
        representation_columns=[f"a{i}" for i in range(6)],
        numeric_columns=["age"],
        regressor=ChainRegressor(epochs=2, random_state=0),
    )
    chain.set_callbacks(ProgressBar()).fit(df, y)
    assert len(chain.named_steps["regressor"].history_["loss"]) == 2
