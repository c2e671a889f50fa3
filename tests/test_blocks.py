"""The blocks package: one class per kind, a registry, and the layout made once per fit."""

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skchain import Chain, ChainRegressor, make_chain
from skchain.blocks import (
    Block,
    EmbeddedBlock,
    Layout,
    NetworkAInputsBlock,
    NumericBlock,
    OtherBlock,
    RepresentationBlock,
    block_class,
    register_block,
    registered_blocks,
    unregister_block,
)

A_COLUMNS = [f"a{i}" for i in range(6)]


def _fitted_chain(pre, df, y, encoding="embed"):
    chain = make_chain(
        pre,
        representation_columns=A_COLUMNS,
        categorical_columns=["store"],
        numeric_columns=["age"],
        categorical_encoding=encoding,
        regressor=ChainRegressor(hidden_units=(4,), branch_units=4, epochs=1, random_state=0),
    )
    return chain.fit(df[:80], y[:80])


def test_layout_holds_one_block_per_transformer_with_scikit_learns_slices(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = _fitted_chain(fitted_pre, df, y)
    features = chain.named_steps["features"]
    layout = chain.features_layout()
    assert layout is chain.features_layout()  # made once, not per call
    assert [type(b) for b in layout] == [
        RepresentationBlock,
        NetworkAInputsBlock,
        EmbeddedBlock,
        NumericBlock,
    ]
    for block in layout:
        where = features.output_indices_[block.name]
        assert (block.start, block.stop) == (where.start, where.stop)
    assert [b.network is not None for b in layout] == [True, False, False, False]
    assert layout[0].network is layout[0].transformer
    regressor = chain.named_steps["regressor"]
    assert regressor.input_blocks_ == layout.final_blocks()[0]
    assert regressor.block_kinds_["embedded"] == "embedded"
    assert chain.categorical_encodings_ == {"store": "embed"}


def test_a_final_stage_fitted_with_the_layout_gets_the_chains_branches(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = _fitted_chain(fitted_pre, df, y)
    Xt = chain[:-1].transform(df[:80])
    # Renamed columns: the names say nothing, the layout says everything.
    renamed = Xt.set_axis([f"c{j}" for j in range(Xt.shape[1])], axis=1)
    alone = ChainRegressor(hidden_units=(4,), branch_units=4, epochs=1, random_state=0)
    alone.fit(renamed, y[:80], layout=chain.features_layout())
    assert alone.input_blocks_ == chain.named_steps["regressor"].input_blocks_
    assert "embedded_embeddings" in {layer.name for layer in alone.model_.layers}
    # Without it, the column names (here without block prefixes) give one block.
    alone.fit(renamed, y[:80])
    assert alone.input_blocks_ == [("features", 0, Xt.shape[1])]


def test_a_fitted_chain_keeps_no_call_scoped_state_on_its_final_step(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = _fitted_chain(fitted_pre, df, y)
    chain.fit(df[:80], y[:80], X_val=df[80:100], y_val=y[80:100])
    state = vars(chain.named_steps["regressor"])
    assert not [name for name in state if "from_chain" in name or name == "_validation_rows"]
    assert "val_loss" in chain.named_steps["regressor"].history_


def test_a_new_kind_is_one_registered_class(dataset_b):
    df, y = dataset_b

    class Doubled(FunctionTransformer):
        pass

    class DoubledBlock(Block):
        kind = "doubled"

        @classmethod
        def matches(cls, steps):
            return isinstance(steps[-1], Doubled)

        @classmethod
        def branch(cls, estimator, name, inputs, start, stop, seed, dense):
            return dense(3, f"{name}_doubled_branch", "tanh")(inputs)

    register_block(DoubledBlock)
    try:
        assert block_class("doubled") is DoubledBlock and DoubledBlock in registered_blocks()
        with pytest.raises(ValueError, match="taken"):
            register_block(type("Other", (Block,), {"kind": "doubled"}))
        features = ColumnTransformer(
            [
                ("twice", Doubled(lambda x: 2 * x, feature_names_out="one-to-one"), ["age"]),
                ("numeric", StandardScaler(), ["age"]),
            ]
        ).set_output(transform="pandas")
        chain = Chain(
            [
                ("features", features),
                ("regressor", ChainRegressor(hidden_units=(4,), epochs=1, random_state=0)),
            ]
        ).fit(df[:60], y[:60])
        assert [type(b) for b in chain.features_layout()] == [DoubledBlock, NumericBlock]
        assert "twice_doubled_branch" in {
            layer.name for layer in chain.named_steps["regressor"].model_.layers
        }
        np.testing.assert_allclose(
            chain.predict(df[:5]),
            chain[-1].predict(chain[:-1].transform(df[:5])),
            rtol=1e-5,
            atol=1e-6,
        )
    finally:
        unregister_block("doubled")
    assert block_class("doubled") is Block and DoubledBlock not in registered_blocks()
    chain.fit(df[:60], y[:60])
    assert [type(b) for b in chain.features_layout()] == [OtherBlock, NumericBlock]


def test_layout_of_refuses_what_is_not_a_fitted_column_transformer():
    with pytest.raises(TypeError, match="not a fitted ColumnTransformer"):
        Layout.of(StandardScaler())
