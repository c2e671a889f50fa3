"""Fit arguments are honoured or refused: nothing a fit call is given is dropped without a word.

``fit(X, y, **kwargs)`` of :class:`ChainRegressor`, :class:`ChainClassifier`
and :class:`KerasTransformer` passes ``callbacks`` (run with the
constructor's, early stopping's and ``set_callbacks``'), ``epochs``,
``batch_size``, ``validation_batch_size``, ``verbose`` and ``shuffle`` to
``keras.Model.fit``; every other keyword is a ``TypeError`` that says where it
goes instead. Directly, through a chain and through ``GridSearchCV``.
"""

import keras
import numpy as np
import pytest
from conftest import N_A_FEATURES
from sklearn.model_selection import GridSearchCV

from skchain import ChainClassifier, ChainRegressor, KerasTransformer, make_chain

COLUMNS = [f"a{i}" for i in range(N_A_FEATURES)]
N_ROWS = 40


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_ROWS, 3)).astype(np.float32)
    return X, X @ np.array([1.0, -1.0, 0.5], dtype=np.float32)


def _network(meta):
    inputs = keras.Input((meta["n_features_in_"],))
    hidden = keras.layers.Dense(4, name="embedding")(inputs)
    return keras.Model(inputs, keras.layers.Dense(1)(hidden))


def _estimator(kind, **params):
    params = {"epochs": 3, "random_state": 0, **params}
    if kind == "regressor":
        return ChainRegressor(hidden_units=(4,), branch_units=None, **params)
    if kind == "classifier":
        return ChainClassifier(hidden_units=(4,), branch_units=None, **params)
    return KerasTransformer(_network, loss="mse", **params)


def _target(kind, y):
    return (y > 0).astype(int) if kind == "classifier" else y


def _stopper():
    """Stops after the second epoch: the first sets the mark, nothing improves by 1e9."""
    return keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1e9)


class Counter(keras.callbacks.Callback):
    """Counts trainings, epochs, training steps and validation steps."""

    def __init__(self):
        super().__init__()
        self.trainings = self.epochs = self.steps = self.validation_steps = 0

    def on_train_begin(self, logs=None):
        self.trainings += 1

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1

    def on_test_batch_end(self, batch, logs=None):
        self.validation_steps += 1


class Recorder:
    """A scikit-learn fit callback (``set_callbacks``) that records the tasks' ends."""

    def __init__(self):
        self.events = []

    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None):
        pass

    def on_fit_task_end(self, estimator, context, *, metadata=None):
        self.events.append(("end", context.task_name))

    def teardown(self, estimator, context):
        pass


KINDS = ["regressor", "classifier", "transformer"]


# ------------------------------------------------------------ take effect
@pytest.mark.parametrize("kind", KINDS)
def test_callbacks_take_effect(kind):
    X, y = _data()
    est = _estimator(kind).fit(X, _target(kind, y), callbacks=[_stopper()])
    assert len(est.history_["loss"]) == 2  # of 3
    assert est._fit_callbacks == []  # nothing of the call stays for the next fit


def test_a_single_callback_is_taken_too():
    X, y = _data()
    assert len(_estimator("regressor").fit(X, y, callbacks=_stopper()).history_["loss"]) == 2


def test_fit_callbacks_run_with_the_others():
    """The constructor's callbacks, early stopping's and set_callbacks' all run as well."""
    X, y = _data()
    own, given, recorder = Counter(), Counter(), Recorder()
    reg = ChainRegressor(
        hidden_units=(4,),
        epochs=3,
        callbacks=[own],
        early_stopping=True,
        n_iter_no_change=50,
        random_state=0,
    ).set_callbacks(recorder)
    reg.fit(X, y, callbacks=[given])
    assert own.epochs == given.epochs == reg.n_iter_ == reg.stopped_epoch_ == 3
    assert [e for e in recorder.events if e[0] == "end"][-1] == ("end", "fit")
    assert reg._fit_callbacks == [own]


def test_partial_fit_takes_callbacks():
    X, y = _data()
    counter = Counter()
    _estimator("regressor").partial_fit(X, y, callbacks=[counter])
    clf = _estimator("classifier").partial_fit(
        X, (y > 0).astype(int), classes=[0, 1], callbacks=[counter]
    )
    assert counter.trainings == counter.epochs == 2 and clf.classes_.tolist() == [0, 1]


@pytest.mark.parametrize("kind", KINDS)
def test_epochs_takes_effect_for_this_call(kind):
    X, y = _data()
    est = _estimator(kind, epochs=1).fit(X, _target(kind, y), epochs=3)
    assert len(est.history_["loss"]) == 3
    assert est.get_params()["epochs"] == 1


def test_more_epochs_than_the_constructor_says_are_epoch_tasks_of_set_callbacks():
    X, y = _data()
    recorder = Recorder()
    reg = _estimator("regressor", epochs=1).set_callbacks(recorder).fit(X, y, epochs=3)
    assert [e for e in recorder.events if e[0] == "end"] == [
        ("end", "epoch 1"),
        ("end", "epoch 2"),
        ("end", "epoch 3"),
        ("end", "fit"),
    ]
    assert reg.n_iter_ == 3


@pytest.mark.parametrize(
    "kind, batch_size, steps",
    [
        ("regressor", 10, 4),
        ("classifier", 16, 3),
        ("transformer", 10, 4),
        ("regressor", -1, 1),
    ],
)
def test_batch_size_takes_effect(kind, batch_size, steps):
    X, y = _data()
    counter = Counter()
    _estimator(kind, epochs=1, batch_size=32).fit(
        X, _target(kind, y), batch_size=batch_size, callbacks=[counter]
    )
    assert counter.steps == steps


def test_validation_batch_size_takes_effect():
    X, y = _data()
    counter = Counter()
    reg = _estimator("regressor", epochs=1)
    reg.fit(
        X[:30], y[:30], X_val=X[30:], y_val=y[30:], validation_batch_size=5, callbacks=[counter]
    )
    assert counter.validation_steps == 2 and "val_loss" in reg.history_


@pytest.mark.parametrize("kind", KINDS)
def test_verbose_takes_effect(kind, capsys):
    X, y = _data()
    _estimator(kind, epochs=1, verbose=0).fit(X, _target(kind, y), verbose=2)
    assert "loss" in capsys.readouterr().out


def test_shuffle_takes_effect():
    X, y = _data()

    def predictions(shuffle_param=True, **fit):
        reg = _estimator("regressor", epochs=2, batch_size=8, shuffle=shuffle_param)
        return reg.fit(X, y, **fit).predict(X)

    in_order = predictions(shuffle=False)
    np.testing.assert_array_equal(in_order, predictions(shuffle_param=False))
    assert not np.array_equal(in_order, predictions(shuffle=True))


def test_sample_weight_and_validation_rows_still_work_with_fit_arguments():
    X, y = _data()
    weight = np.where(X[:, 0] > 0, 3.0, 0.5)
    counter = Counter()
    reg = _estimator("regressor", epochs=1).fit(
        X[:30],
        y[:30],
        sample_weight=weight[:30],
        X_val=X[30:],
        y_val=y[30:],
        epochs=2,
        batch_size=10,
        callbacks=[counter],
    )
    assert reg.n_iter_ == 2 and len(reg.history_["val_loss"]) == 2
    assert counter.steps == 6
    plain = _estimator("regressor", epochs=1).fit(X[:30], y[:30], epochs=2, batch_size=10)
    assert not np.allclose(reg.predict(X), plain.predict(X))


# ---------------------------------------------------------------- refused
REFUSED = [
    ("validation_data", "X_val= and y_val="),
    ("validation_split", "constructor parameter validation_split="),
    ("validation_freq", "constructor parameter fit__validation_freq="),
    ("validation_steps", "constructor parameter fit__validation_steps="),
    ("steps_per_epoch", "constructor parameter fit__steps_per_epoch="),
    ("initial_epoch", "constructor parameter warm_start=True"),
]


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
@pytest.mark.parametrize("name, instead", REFUSED)
def test_other_model_fit_arguments_are_refused_with_where_they_go(kind, name, instead):
    X, y = _data()
    est = _estimator(kind)
    with pytest.raises(TypeError, match=rf"{name}= is not taken here; .*{instead}"):
        est.fit(X, _target(kind, y), **{name: 1})
    assert not hasattr(est, "model_")  # refused before anything was trained


@pytest.mark.parametrize(
    "kind, instead",
    [
        ("regressor", "a regressor has no classes; weigh the rows with sample_weight="),
        ("classifier", "set the constructor parameter class_weight="),
        ("transformer", "set the constructor parameter fit__class_weight="),
    ],
)
def test_class_weight_is_refused_with_where_it_goes(kind, instead):
    X, y = _data()
    with pytest.raises(TypeError, match=rf"class_weight= is not taken here; {instead}"):
        _estimator(kind).fit(X, _target(kind, y), class_weight={0: 1.0, 1: 2.0})


@pytest.mark.parametrize("name", ["validation_data", "X_val", "y_val"])
def test_network_a_refuses_validation_rows_with_where_they_go(name):
    X, y = _data()
    with pytest.raises(
        TypeError,
        match=rf"{name}= is not taken here; .*validation_split="
        r" or early_stopping=",
    ):
        _estimator("transformer").fit(X, y, **{name: (X, y)})


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
@pytest.mark.parametrize(
    "name, instead",
    [
        ("epochs", "partial_fit trains one epoch; for more set the constructor parameter epochs="),
        ("initial_epoch", "partial_fit continues from the network's current epoch"),
        ("validation_data", "partial_fit takes no validation rows; pass X_val= and y_val= to fit"),
    ],
)
def test_partial_fit_refuses_with_where_it_goes(kind, name, instead):
    X, y = _data()
    with pytest.raises(TypeError, match=rf"partial_fit: {name}= is not taken here; {instead}"):
        _estimator(kind).partial_fit(X, _target(kind, y), **{name: 1})


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_keywords_are_refused_by_name(kind):
    X, y = _data()
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['bogus', 'colour'\]"):
        _estimator(kind).fit(X, _target(kind, y), colour="red", bogus=1)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"epochs": 0}, ValueError, r"epochs=0; expected a positive int"),
        ({"epochs": True}, ValueError, r"epochs=True"),
        ({"batch_size": 0}, ValueError, r"batch_size=0; expected a positive int, None, or -1"),
        ({"validation_batch_size": 2.5}, ValueError, r"validation_batch_size=2.5"),
        ({"callbacks": ["stop"]}, TypeError, r"callbacks=\['stop'\]; expected a keras"),
    ],
)
def test_bad_values_are_named(kwargs, error, match):
    X, y = _data()
    with pytest.raises(error, match=match):
        _estimator("regressor").fit(X, y, **kwargs)


def test_validation_split_is_not_dropped_for_explicit_validation_rows():
    X, y = _data()
    with pytest.raises(ValueError, match=r"in place of validation_split=0.2; leave it at 0"):
        _estimator("regressor", validation_split=0.2).fit(
            X[:30], y[:30], X_val=X[30:], y_val=y[30:]
        )


# ------------------------------------------------ through a chain, a search
def _chain(pre, **regressor):
    return make_chain(
        pre,
        representation_columns=COLUMNS,
        categorical_columns=["store"],
        numeric_columns=["age"],
        regressor=ChainRegressor(hidden_units=(4,), epochs=4, random_state=0, **regressor),
    )


def test_chain_passes_fit_arguments_to_the_final_network(fitted_pre, dataset_b):
    df, y = dataset_b
    counter = Counter()
    chain = _chain(fitted_pre).fit(
        df, y, regressor__callbacks=[_stopper(), counter], regressor__batch_size=60
    )
    assert len(chain.named_steps["regressor"].history_["loss"]) == 2
    assert counter.steps == 2 * 3
    with pytest.raises(TypeError, match=r"validation_data= is not taken here; pass X_val="):
        _chain(fitted_pre).fit(df, y, regressor__validation_data=(df, y))


def test_grid_search_passes_callbacks_to_every_fit(fitted_pre, dataset_b):
    df, y = dataset_b
    counter = Counter()
    search = GridSearchCV(_chain(fitted_pre), {"regressor__hidden_units": [(4,)]}, cv=2)
    search.fit(df, y, regressor__callbacks=[_stopper(), counter])
    assert counter.trainings == 2 + 1  # every fold, and the refit
    assert counter.epochs == 2 * counter.trainings
    assert len(search.best_estimator_.named_steps["regressor"].history_["loss"]) == 2
