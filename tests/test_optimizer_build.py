"""Every network skchain trains gets its optimizer built before the first step, not in it."""

import re

import keras
import numpy as np
import pytest
from conftest import build_network_a

from skchain import ChainClassifier, ChainRegressor, FineTune, KerasTransformer, make_chain
from skchain._optimizer_build import BuildOptimizer, build_optimizer

A_COLUMNS = [f"a{i}" for i in range(6)]


class _Recorder(keras.callbacks.Callback):
    def __init__(self, seen):
        super().__init__()
        self.seen = seen

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0 and len(self.seen) < self.fits:
            self.seen.append(self.model.optimizer.built)

    def on_train_begin(self, logs=None):
        self.fits = len(self.seen) + 1


@pytest.fixture
def optimizer_built_at_first_batch(monkeypatch):
    """``optimizer.built`` of every network as its first batch begins (after skchain's
    callback; before Keras' first step, which would build it), one entry per fit."""
    seen = []
    fit = keras.Model.fit

    def recording(self, *args, **kwargs):
        kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), _Recorder(seen)]
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", recording)
    return seen


def _tiny_network(compiled=True):
    network = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(1)])
    if compiled:
        network.compile(optimizer="adam", loss="mse")
    return network


def test_build_optimizer_builds_once_on_the_trainable_variables():
    network = _tiny_network()
    build_optimizer(network)
    assert network.optimizer.built
    variables = [id(v) for v in network.optimizer.variables]
    # Adam: iterations and learning rate, and two slots per trained variable (4).
    assert len(variables) == 2 + 2 * len(network.trainable_variables)
    build_optimizer(network)  # built already: nothing changes
    assert [id(v) for v in network.optimizer.variables] == variables


def test_build_optimizer_leaves_networks_it_cannot_build_alone():
    build_optimizer(_tiny_network(compiled=False))  # no optimizer: nothing to do
    frozen = _tiny_network()
    for layer in frozen.layers:
        layer.trainable = False
    build_optimizer(frozen)  # nothing to train: left to Keras
    assert not frozen.optimizer.built


class LazyModel(keras.Model):
    """Makes one weight in ``__init__`` and its dense layer's on the first call."""

    def __init__(self):
        super().__init__()
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale")
        self.dense = keras.layers.Dense(1)

    def call(self, inputs):
        return self.dense(inputs) * self.scale


def test_a_network_not_built_yet_is_left_to_keras():
    """Built on the weights made so far, the optimizer would refuse the dense layer's."""
    network = LazyModel()
    network.compile(optimizer="adam", loss="mse")
    assert network.trainable_variables  # the scale, already
    build_optimizer(network)
    assert not network.optimizer.built
    X = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    network.fit(X, X.sum(axis=1), epochs=1, verbose=0)  # Keras builds it, on every variable
    assert len(network.optimizer.variables) == 2 + 2 * 3


def test_every_fit_gets_a_built_optimizer(optimizer_built_at_first_batch, dataset_a, dataset_b):
    X, y = dataset_a
    pre = KerasTransformer(
        build_network_a, output_layer="embedding", loss="mse", epochs=1, random_state=0
    ).fit(X, y)
    df, target = dataset_b
    for final in (
        ChainRegressor(epochs=1, random_state=0),
        ChainClassifier(epochs=1, random_state=0),
    ):
        labels = target > np.median(target) if isinstance(final, ChainClassifier) else target
        make_chain(
            pre,
            representation_columns=A_COLUMNS,
            categorical_columns=["store"],
            numeric_columns=["age"],
            regressor=final,
            fine_tune=FineTune(epochs=1) if isinstance(final, ChainRegressor) else None,
        ).fit(df, labels)
    # network A; the regressor's fine-tuning and its own fit; the classifier.
    assert optimizer_built_at_first_batch == [True] * 4


def _fitted_weights(monkeypatch, build, make, *data):
    if not build:  # Keras' own: the optimizer built in the first traced step
        monkeypatch.setattr(BuildOptimizer, "on_train_batch_begin", lambda *args, **kw: None)
    fitted = make().fit(*data)
    monkeypatch.undo()
    return fitted


def _unnumbered(path):
    return re.sub(r"_\d+(?=/)", "", path)


def _assert_same_training(ours, theirs):
    assert ours.history_["loss"] == theirs.history_["loss"]
    for mine, reference in zip(ours.model_.get_weights(), theirs.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, reference)
    mine, reference = ours.model_.optimizer.variables, theirs.model_.optimizer.variables
    # The same paths, but for the numbers Keras appends to each new optimizer's name.
    assert [_unnumbered(v.path) for v in mine] == [_unnumbered(v.path) for v in reference]
    for a, b in zip(mine, reference, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


class _SetTrainable(keras.callbacks.Callback):
    """Sets ``layer.trainable`` of the named layers as training begins (gradual unfreezing)."""

    def __init__(self, names, trainable):
        super().__init__()
        self.names, self.trainable = names, trainable

    def on_train_begin(self, logs=None):
        for name in self.names:
            self.model.get_layer(name).trainable = self.trainable


def _partly_frozen(meta, compile_kwargs):
    inputs = keras.Input((meta["n_features_in_"],))
    hidden = keras.layers.Dense(8, activation="relu", name="h1")
    hidden.trainable = False
    network = keras.Model(inputs, keras.layers.Dense(1, name="out")(hidden(inputs)))
    network.compile(optimizer="adam", loss="mse")
    return network


@pytest.mark.filterwarnings("ignore:The model does not have any trainable weights")
@pytest.mark.parametrize(
    "names, trainable, n_trained",
    [(["h1"], True, 4), (["h1"], False, 2), (["h1", "out"], False, 0)],
    ids=["unfrozen", "frozen", "all-frozen"],
)
def test_callbacks_may_change_what_is_trained_as_training_begins(
    monkeypatch, dataset_a, names, trainable, n_trained
):
    """The optimizer is built on what is trainable at the first step, as Keras' own."""
    X, y = dataset_a

    def make():
        return ChainRegressor(
            model=_partly_frozen,
            epochs=2,
            random_state=0,
            callbacks=[_SetTrainable(names, trainable)],
        )

    ours, keras_own = (_fitted_weights(monkeypatch, build, make, X, y) for build in (True, False))
    _assert_same_training(ours, keras_own)
    # One of Adam's two slots a trained variable (none were made for a frozen one).
    momenta = [v for v in ours.model_.optimizer.variables if v.path.endswith("_momentum")]
    assert len(momenta) == n_trained


@pytest.mark.parametrize("fine_tune", [None, FineTune(epochs=2, learning_rate=1e-2)])
def test_training_is_keras_own_bit_for_bit(monkeypatch, fitted_pre, dataset_b, fine_tune):
    """Built before the fit or, as Keras would, in the first step: the same network."""
    df, y = dataset_b

    def make():
        return make_chain(
            fitted_pre,
            representation_columns=A_COLUMNS,
            categorical_columns=["store"],
            numeric_columns=["age"],
            regressor=ChainRegressor(epochs=3, batch_size=32, random_state=0),
            fine_tune=fine_tune,
        )

    ours, keras_own = (_fitted_weights(monkeypatch, build, make, df, y) for build in (True, False))
    _assert_same_training(ours.named_steps["regressor"], keras_own.named_steps["regressor"])
    np.testing.assert_array_equal(ours.predict(df), keras_own.predict(df))


@pytest.mark.parametrize("kind", ["regressor", "classifier", "network A"])
def test_an_optimizer_instance_is_the_users_and_every_fit_starts_afresh(dataset_a, kind):
    """scikeras compiled with the user's instance: fit trained it in place, and the next
    fit (a refit, or a clone's, which deep-copies it) failed with Keras' 'Unknown
    variable' ValueError."""
    from sklearn.base import clone

    X, y = dataset_a
    if kind == "classifier":
        y = y > np.median(y)

    def make(optimizer, **extra):
        settings = dict(optimizer=optimizer, epochs=2, random_state=0, **extra)
        if kind == "network A":
            return KerasTransformer(
                build_network_a, loss="mse", output_layer="embedding", **settings
            )
        return (ChainClassifier if kind == "classifier" else ChainRegressor)(**settings)

    def answer(estimator):
        return estimator.transform(X[:8]) if kind == "network A" else estimator.predict(X[:8])

    users = keras.optimizers.Adam(0.01)
    estimator = make(users)
    first = answer(estimator.fit(X, y))
    assert estimator.model_.optimizer is not users and estimator.model_.optimizer.built
    np.testing.assert_array_equal(answer(estimator.fit(X, y)), first)  # the refit
    np.testing.assert_array_equal(answer(clone(estimator).fit(X, y)), first)
    assert not users.built and int(users.iterations) == 0  # never trained
    by_name = make("adam", optimizer__learning_rate=0.01)
    np.testing.assert_array_equal(answer(by_name.fit(X, y)), first)
