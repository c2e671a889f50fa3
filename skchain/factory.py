"""The factory of chains: :func:`make_chain` builds a :class:`~skchain.Chain` from column lists.

Its checks of the networks A it is given (``preprocessor`` or
``representations``, ``adapt``, their block names) are in
``skchain._factory_checks``; this module assembles the chain's blocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from sklearn.base import (
    BaseEstimator,  # noqa: E402  (named by make_chain's annotations)
    clone,
)
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from ._factory_checks import _adapted, _check_block_names, _networks_a
from ._own_columns import categorical_blocks, numeric_block
from .chain import Chain
from .finetune import FineTune  # noqa: E402  (named by make_chain's annotations)
from .frozen import FrozenTransformer
from .passthrough import NetworkAInputs
from .preprocessor import KerasTransformer
from .regressor import ChainRegressor
from .sequences import SequencePadder

__all__ = ["make_chain"]


_Encoding = Literal["auto", "onehot", "hash", "embed"]
_Adapt = Literal["standardize", "coral", "adabn"]


def _representation_blocks(
    name: str,
    frozen: FrozenTransformer,
    columns: Any,
    padder: SequencePadder | None,
    passthrough: bool | str,
) -> list[tuple[str, Any, list[Any]]]:
    """The ``(name, transformer, columns)`` of one network A and, with ``passthrough``,
    of its scaled inputs (``"<name>_inputs"``)."""
    if columns is None:
        names = getattr(frozen.estimator, "feature_names_in_", None)
        if names is None:
            raise ValueError(
                f"make_chain: network A {name!r} was fitted without column names: give B's"
                " columns that feed it, in its input order"
                + (
                    " (representation_columns=)"
                    if name == "representation"
                    else f" (representations={{{name!r}: (network A, columns)}})"
                )
            )
        columns = list(names)
    if isinstance(columns, (str, bytes)):
        raise TypeError(
            f"make_chain: the columns of network A {name!r} must be a list (or a dict mapping"
            f" B's names to A's); got {type(columns).__name__} {columns!r:.60}"
        )
    if isinstance(columns, Mapping):
        if padder is not None:
            raise ValueError(
                f"make_chain: network A {name!r}: columns as a dict map B's columns to"
                " network A's named inputs; with a padder network A reads one padded list"
                " column: pass [column]"
            )
        frozen = clone(frozen).set_params(rename=dict(columns))
    if passthrough == "auto":
        passthrough = padder is None
    if padder is not None and passthrough:
        raise ValueError(
            f"make_chain: network A {name!r}: representation_passthrough=True needs its"
            " inputs as numeric columns; with a padder they are a padded sequence"
        )
    step = frozen if padder is None else Pipeline([("padder", padder), ("network_a", frozen)])
    blocks = [(name, step, list(columns))]
    if passthrough:
        inputs = NetworkAInputs(frozen.estimator, rename=frozen.rename)
        blocks.append((f"{name}_inputs", inputs, list(columns)))
    return blocks


def make_chain(
    preprocessor: KerasTransformer | FrozenTransformer | None = None,
    *,
    representations: Mapping[str, Any] | None = None,
    representation_columns: Sequence[str | int] | Mapping[str, str] | None = None,
    categorical_columns: Sequence[str | int] = (),
    numeric_columns: Sequence[str | int] = (),
    sequence_columns: Sequence[str] = (),
    categorical_encoding: _Encoding | Mapping[str, _Encoding] = "auto",
    max_onehot_levels: int = 16,
    high_cardinality: Literal["embed", "hash"] = "embed",
    hash_features: int = 64,
    min_frequency: int | float | None = None,
    max_categories: int | None = None,
    numeric_imputer: str | Any | None = None,
    sequence_padder: SequencePadder | None = None,
    representation_padder: SequencePadder | None = None,
    representation_passthrough: bool | Literal["auto"] = "auto",
    adapt: _Adapt | Mapping[str, _Adapt | None] | None = None,
    regressor: BaseEstimator | None = None,
    classifier: BaseEstimator | None = None,
    fine_tune: FineTune | None = None,
) -> Chain:
    """Build the chain: frozen network A and B's own columns, then a regressor.

    Parameters
    ----------
    preprocessor : KerasTransformer or FrozenTransformer, default=None
        Network A, fitted on dataset A. A ``KerasTransformer`` is wrapped in a
        :class:`FrozenTransformer`, so fitting the chain never retrains it.
        Its block is named ``"representation"``. Pass it or
        ``representations``, not both.
    representations : dict, default=None
        Several networks A: ``{name: network A}`` or ``{name: (network A,
        columns)}`` or ``{name: (network A, columns, padder)}``, each network A
        a fitted ``KerasTransformer`` or ``FrozenTransformer`` (possibly
        trained on different datasets), ``columns`` as
        ``representation_columns`` (``None``: network A's own input names) and
        ``padder`` as ``representation_padder``. Each becomes a block of its
        own named ``name`` (frozen, with its own cache and its own drift and
        leakage checks; searchable as ``features__<name>__output_layer``),
        with ``"<name>_inputs"`` beside it under
        ``representation_passthrough``; the final network gets one branch per
        network A, and :class:`FineTune` tunes all of them or those in its
        ``networks``. Two networks may read overlapping columns. A name is a
        non-empty string without ``"__"`` that no other block uses.
    representation_columns : list of str or int, or dict, default=None
        Dataset B's columns that feed network A. When network A knows its
        input names (fitted on a DataFrame, or ``from_model`` with a scaler
        fitted on one), they are matched to them **by name**, in any order;
        a dict ``{B's name: A's name}`` maps B's columns named differently.
        When network A has no names, list them in network A's input order
        (matched by position). ``None`` uses network A's own input names.
        Every path (``fit``/``predict``, the compiled predict, ``to_keras``,
        the exported models, fine-tuning) reads the columns the same way; a
        name network A never saw, or an input of network A no column
        provides, is a ``ValueError`` at ``fit`` naming both lists.
    categorical_columns : list of str or int, default=()
        B's categorical columns (strings, integers, booleans, pandas
        ``category``, mixed; missing values are a level of their own).
    numeric_columns : list of str or int, default=()
        B's numeric columns, standardised.
    sequence_columns : list of str, default=()
        B's columns whose cells are variable-length sequences (lists or
        arrays of token ids or values) for the final network: each is padded
        by ``sequence_padder`` and gets a masked recurrent branch.
    categorical_encoding : {"auto", "onehot", "hash", "embed"} or dict, default="auto"
        How categorical columns are encoded (see
        :func:`make_categorical_encoder`): ``"onehot"`` (one column per
        level), ``"hash"`` (``hash_features`` columns), ``"embed"`` (integer
        codes the final network turns into entity embeddings), ``"auto"``
        (``"onehot"`` for a column with at most ``max_onehot_levels`` levels
        in the training rows, ``high_cardinality`` above), or a dict
        ``{column: encoding}``.
    max_onehot_levels : int, default=16
        The ``"auto"`` threshold (a missing value counts as a level).
    high_cardinality : {"embed", "hash"}, default="embed"
        What ``"auto"`` uses above the threshold.
    hash_features : int, default=64
        Width of the hashed block.
    min_frequency, max_categories : int, float or None, default=None
        Group rare levels into one, for ``"onehot"`` and ``"embed"`` (as in
        scikit-learn's encoders).
    numeric_imputer : str, transformer or None, default=None
        Fills missing values of the numeric columns before scaling: a
        :class:`~sklearn.impute.SimpleImputer` strategy (``"mean"``,
        ``"median"``, ...) or any imputer. ``None``: a missing numeric value
        is an error that names the column.
    sequence_padder : SequencePadder, default=None
        Pads ``sequence_columns``; ``None`` means ``SequencePadder()``
        (token ids, ``maxlen`` from the training rows).
    representation_padder : SequencePadder, default=None
        When network A reads sequences: the padder its input was made with
        (an explicit ``maxlen``, network A's input width); the
        representation block becomes ``Pipeline([("padder", ...),
        ("network_a", FrozenTransformer)])``.
    representation_passthrough : bool or "auto", default="auto"
        Also give the final network B's columns of A's kind themselves,
        scaled with network A's own input scaler, as a block of their own
        (``"representation_inputs"``, a :class:`~skchain.passthrough.NetworkAInputs`)
        beside network A's representation: the final network can use what the
        representation lost. Columns are matched as for the representation.
        ``"auto"``: on, unless network A reads sequences
        (``representation_padder``), where its inputs are not numeric columns.
        On by default because it was the better default on the six real tasks
        of ``benchmarks/bench_accuracy.py`` (with the final network's
        ``dropout=0.2``): it lifts the tasks where network A was trained for
        another target (digits 0-4 -> 5-9: accuracy 0.911 -> 0.985) and costs
        about 0.01 where the representation is the better input.
    adapt : {None, "standardize", "coral", "adabn"} or dict, default=None
        Unsupervised adaptation of each network A to the rows the chain is
        fitted on (see :class:`FrozenTransformer` and
        :mod:`skchain.adaptation`), or ``{name: choice}`` per network A (those
        not named keep their own). Searchable as
        ``features__<name>__adapt``; fine-tuning starts from the adapted network.
    regressor : estimator, default=None
        The final stage for a continuous target (step ``"regressor"``);
        ``None`` means ``ChainRegressor()`` unless ``classifier`` is given.
    classifier : estimator, default=None
        The final stage for class labels (step ``"classifier"``, searchable
        as ``classifier__*``), e.g. :class:`ChainClassifier`; the chain is
        then a classifier (``is_classifier``, ``predict_proba``,
        ``classes_``, stratified cross-validation). Not with ``regressor``.
    fine_tune : FineTune, default=None
        ``None`` keeps network A frozen; a :class:`FineTune` fine-tunes a copy
        of it with the final loss after each fit (see :class:`Chain`).

    Returns
    -------
    Chain
        A :class:`sklearn.pipeline.Pipeline` subclass with the steps
        ``"features"`` and ``"regressor"``. ``"features"`` is a
        ``ColumnTransformer`` (pandas output, so that the regressor sees the
        block of each column) with the transformers ``"representation"`` and
        ``"representation_inputs"`` (or one pair per name of
        ``representations``), ``"onehot"``, ``"hashed"``, ``"embedded"``, ``"sequence_<column>"``
        and ``"numeric"``, those with no columns left out. Parameters are
        searchable by these names, e.g.
        ``features__onehot__encoder__min_frequency``,
        ``features__hashed__n_features``,
        ``features__representation__output_layer``.

    Examples
    --------
    >>> from skchain import ChainRegressor, make_chain
    >>> chain = make_chain(pre, representation_columns=["px0", "px1"],
    ...                    categorical_columns=["store"], numeric_columns=["age"],
    ...                    regressor=ChainRegressor(epochs=5))  # doctest: +SKIP
    >>> chain.fit(df_b, y_b).predict(df_new)  # doctest: +SKIP

    Two networks A, trained on different datasets, read B's image columns and
    B's size columns:

    >>> chain = make_chain(representations={"pixels": (pre_img, PIXELS),
    ...                                     "size": (pre_size, ["width", "height"])},
    ...                    numeric_columns=["age"])  # doctest: +SKIP
    """
    if regressor is not None and classifier is not None:
        raise ValueError(
            "make_chain: pass regressor= (a continuous target) or classifier= (class"
            " labels), not both"
        )
    if representation_passthrough not in (True, False, "auto"):
        raise ValueError(
            f"make_chain: representation_passthrough={representation_passthrough!r}; expected"
            " True, False or 'auto'"
        )
    blocks: list[tuple[str, Any, Any]] = []
    for name, network, columns, padder in _adapted(
        _networks_a(preprocessor, representations, representation_columns, representation_padder),
        adapt,
    ):
        blocks += _representation_blocks(name, network, columns, padder, representation_passthrough)
    _check_block_names(blocks, sequence_columns)
    blocks += categorical_blocks(
        categorical_columns,
        categorical_encoding,
        hash_features=hash_features,
        min_frequency=min_frequency,
        max_categories=max_categories,
        max_onehot_levels=max_onehot_levels,
        high_cardinality=high_cardinality,
    )
    for column in sequence_columns:
        padder = SequencePadder() if sequence_padder is None else clone(sequence_padder)
        blocks.append((f"sequence_{column}", padder, [column]))
    if len(numeric_columns):
        blocks.append(("numeric", numeric_block(numeric_imputer), list(numeric_columns)))
    features = ColumnTransformer(
        blocks, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=True
    ).set_output(transform="pandas")
    if classifier is not None:
        final = ("classifier", classifier)
    else:
        final = ("regressor", regressor if regressor is not None else ChainRegressor())
    return Chain([("features", features), final], fine_tune=fine_tune)
