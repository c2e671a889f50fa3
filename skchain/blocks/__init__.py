"""The blocks of a fitted features step: one class per kind, and their layout.

A chain's features step is a ``ColumnTransformer``; each of its fitted
transformers makes one *block* of the final network's input. Each kind of
block is one :class:`Block` subclass, registered with :func:`register_block`,
that owns everything about its kind: how it is recognised in a fitted
features step, its fitted constants, its entry into the compiled graph,
its served inputs, its branch of the final network, its part in
fine-tuning and in the plots. :class:`Layout` holds the blocks of one fitted
features step with their slices (``output_indices_``); the chain makes it
once per fit and hands it to the final network, the compiled predict,
fine-tuning and the export. This package is the only code that reads a
fitted ``ColumnTransformer``'s ``transformers_``.

Kinds, decided by the fitted transformer (never by its name):

``representation`` (:class:`RepresentationBlock`)
    A :class:`~skchain.FrozenTransformer` (network A), alone or after a
    :class:`~skchain.SequencePadder`.
``numeric`` (:class:`NumericBlock`), ``network_a_inputs`` (:class:`NetworkAInputsBlock`)
    A ``StandardScaler``, alone or after imputers; network A's scaled inputs.
``onehot``, ``embedded``, ``hashed`` (:class:`CategoricalBlock` subclasses)
    A pipeline ending in ``OneHotEncoder`` / ``OrdinalEncoder`` (its codes are
    entity-embedded by the final network), or a :class:`~skchain.HashingEncoder`.
``sequence`` (:class:`SequenceBlock`)
    A :class:`~skchain.SequencePadder` (the final network's recurrent branch).
``other`` (:class:`OtherBlock`)
    Anything else; computed by its own fitted transformer.
"""

from ._base import Block, layer_name, serving_name
from .categorical import CategoricalBlock, EmbeddedBlock, HashedBlock, OneHotBlock
from .layout import (
    Layout,
    blocks_from_names,
    fitted_transformers,
    input_blocks,
    plan_state,
    replace_network,
)
from .numeric import NetworkAInputsBlock, NumericBlock, check_numeric_columns
from .other import OtherBlock
from .registry import (
    block_class,
    block_names_by_encoding,
    register_block,
    registered_blocks,
    unregister_block,
)
from .representation import RepresentationBlock
from .sequence import SequenceBlock

__all__ = [
    "Block",
    "CategoricalBlock",
    "EmbeddedBlock",
    "HashedBlock",
    "Layout",
    "NetworkAInputsBlock",
    "NumericBlock",
    "OneHotBlock",
    "OtherBlock",
    "RepresentationBlock",
    "SequenceBlock",
    "block_class",
    "block_names_by_encoding",
    "blocks_from_names",
    "check_numeric_columns",
    "fitted_transformers",
    "input_blocks",
    "layer_name",
    "plan_state",
    "register_block",
    "registered_blocks",
    "replace_network",
    "serving_name",
    "unregister_block",
]
