"""Every network skchain trains gets its optimizer built before ``keras.Model.fit``."""

import keras
import numpy as np
import pytest
from conftest import build_network_a

import skchain._base
import skchain.finetune
from skchain import ChainClassifier, ChainRegressor, FineTune, KerasTransformer, make_chain
from skchain._optimizer_build import build_optimizer

A_COLUMNS = [f"a{i}" for i in range(6)]


@pytest.fixture
def optimizer_built_at_fit(monkeypatch):
    """``optimizer.built`` of every network when ``keras.Model.fit`` is called, in order."""
    seen = []
    fit = keras.Model.fit

    def recording(self, *args, **kwargs):
        seen.append(self.optimizer.built)
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


def test_every_fit_gets_a_built_optimizer(optimizer_built_at_fit, dataset_a, dataset_b):
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
    assert optimizer_built_at_fit == [True] * 4


def _fitted_weights(monkeypatch, build, make, *data):
    if not build:
        monkeypatch.setattr(skchain._base, "build_optimizer", lambda network: None)
        monkeypatch.setattr(skchain.finetune, "build_optimizer", lambda network: None)
    fitted = make().fit(*data)
    monkeypatch.undo()
    return fitted


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
    regressor, reference = ours.named_steps["regressor"], keras_own.named_steps["regressor"]
    assert regressor.history_["loss"] == reference.history_["loss"]
    for mine, theirs in zip(
        regressor.model_.get_weights(), reference.model_.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(mine, theirs)
    for mine, theirs in zip(
        regressor.model_.optimizer.variables, reference.model_.optimizer.variables, strict=True
    ):
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs))
    np.testing.assert_array_equal(ours.predict(df), keras_own.predict(df))
