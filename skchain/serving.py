"""A fitted chain as one servable model: Keras, TensorFlow SavedModel, ONNX.

:meth:`Chain.to_keras <skchain.Chain.to_keras>` builds, from the block plan,
one ``keras.Model`` of the raw columns (network A's scaler and network A, the
numeric imputers and scalers, the categorical encoders as lookup layers, the
final network). :meth:`Chain.export <skchain.Chain.export>` writes it as a
TensorFlow SavedModel (served by TensorFlow Serving, loaded by
``tf.saved_model.load`` without skchain) or as one ONNX file (run by
``onnxruntime`` alone; needs the ``serve`` extra).

The inputs' contract (also :meth:`Chain.serving_inputs <skchain.Chain.serving_inputs>`):

* one input per column, named after it (characters other than letters,
  digits, ``_``, ``.``, ``-`` become ``_``), shape ``(batch, 1)``;
* network A's and numeric columns: ``float32``; ``NaN`` where the chain's
  imputer fills a missing value;
* categorical columns: text, the level as
  :class:`~skchain.CategoricalLevels` spells it (``3`` and ``3.0`` are
  ``"3"``, booleans ``"True"``/``"False"``), ``"<missing>"`` for a missing
  value; a level not seen in ``fit`` gets what the fitted encoder gives it;
* sequence columns: padded by the chain's padder, ``(batch, maxlen)`` float32.

Examples
--------
>>> chain.export("model_dir")  # doctest: +SKIP
>>> import tensorflow as tf  # in the serving process, without skchain
>>> served = tf.saved_model.load("model_dir")  # doctest: +SKIP
>>> row = {"px0": tf.constant([[0.0]]), "store": tf.constant([["north"]]), ...}  # doctest: +SKIP
>>> served.serve(row)["predictions"]  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sklearn.utils.validation import check_is_fitted

from ._base import load_network
from ._graph import serving_model
from ._network import BlockNetworkMixin
from ._validation import as_pandas

if TYPE_CHECKING:
    import keras
    import numpy as np
    import tensorflow as tf

    from .blocks import Layout

__all__ = ["FORMATS", "ServedChainMixin", "export", "serving_inputs", "to_keras"]

#: What :func:`export` writes.
FORMATS = ("tf_saved_model", "onnx")

# The ONNX operator set: 17 has every operator the converted graphs use
# (CategoryMapper for the level lookups comes from ai.onnx.ml).
ONNX_OPSET = 17


def _plan(chain: Any, method: str) -> tuple[Layout, BlockNetworkMixin]:
    check_is_fitted(chain)
    if len(chain.steps) != 2:
        raise ValueError(f"Chain.{method}: expected a features step and a final stage")
    final = chain.steps[-1][1]
    if not isinstance(final, BlockNetworkMixin):
        raise ValueError(
            f"Chain.{method}: the final stage must be a ChainRegressor or ChainClassifier;"
            f" got {type(final).__name__}"
        )
    try:
        return chain.features_layout(), final
    except TypeError as exc:
        raise ValueError(
            f"Chain.{method}: {exc}; expected a ColumnTransformer of named columns"
            " (as make_chain builds it)"
        ) from None


def _served(chain: Any, method: str) -> tuple[keras.Model, Layout]:
    """``(keras.Model sharing the chain's layers, layout)``.

    Named errors for what cannot be served.
    """
    plan, final = _plan(chain, method)
    try:
        return serving_model(plan, final), plan
    except ValueError as exc:
        raise ValueError(f"Chain.{method}: {exc}") from None


def to_keras(chain: Any) -> keras.Model:
    """See :meth:`skchain.Chain.to_keras`."""
    model, _ = _served(chain, "to_keras")
    # An independent copy through Keras' own format (which also proves the
    # model saves); loading draws nothing from the global generators.
    from keras.src.saving import saving_lib

    buffer = io.BytesIO()
    saving_lib.save_model(model, buffer)
    return load_network(buffer.getvalue())


def serving_inputs(chain: Any, X: Any) -> dict[str, np.ndarray]:
    """See :meth:`skchain.Chain.serving_inputs`."""
    plan, _ = _plan(chain, "serving_inputs")
    frame = as_pandas(X, "Chain serving_inputs")
    missing = [c for block in plan for c in block.columns if c not in frame.columns]
    if missing:
        raise ValueError(f"Chain serving_inputs: column(s) {missing} missing from X")
    values: dict[str, np.ndarray] = {}
    for block in plan:
        try:
            values.update(block.serving_values(frame))
        except ValueError as exc:
            raise ValueError(f"Chain serving_inputs: {exc}") from None
    return values


def _input_signature(model: keras.Model) -> list[dict[str, tf.TensorSpec]]:
    import tensorflow as tf

    return [
        {
            x.name: tf.TensorSpec(
                (None, *x.shape[1:]), tf.string if x.dtype == "string" else tf.float32, name=x.name
            )
            for x in model.inputs
        }
    ]


@contextlib.contextmanager
def _quiet_converters() -> Iterator[None]:
    """TensorFlow's and tf2onnx's logging at ERROR while exporting, restored after.

    Both log warnings about lookup tables that are expected and harmless
    ("Issue encountered when serializing table_initializer", "Cannot infer
    shape for LookupTableFindV2").
    """
    loggers = [logging.getLogger(name) for name in ("tensorflow", "tf2onnx")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=False):
            logger.setLevel(level)


def export(
    chain: Any,
    path: str | os.PathLike[str],
    format: Literal["tf_saved_model", "onnx"] = "tf_saved_model",
) -> Path:
    """See :meth:`skchain.Chain.export`."""
    if format not in FORMATS:
        raise ValueError(f"Chain.export: format={format!r}; expected one of {list(FORMATS)}")
    if format == "onnx":
        try:
            import tf2onnx
        except ImportError:
            raise ImportError(
                "Chain.export(format='onnx') needs tf2onnx and onnx: pip install 'skchain[serve]'"
            ) from None
    model, _ = _served(chain, "export")
    path = Path(os.fspath(path))
    signature = _input_signature(model)
    with _quiet_converters():
        if format == "tf_saved_model":
            import keras
            import tensorflow as tf

            archive = keras.export.ExportArchive()
            archive.track(model)
            name = model.layers[-1].name  # "predictions" or "probabilities"
            archive.add_endpoint(
                "serve",
                tf.function(lambda inputs: {name: model(inputs, training=False)}),
                input_signature=signature,
            )
            archive.write_out(str(path), verbose=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            # tf2onnx converts the lookup layers to ai.onnx.ml CategoryMapper
            # (Keras' own ONNX export leaves them as LookupTableFindV2).
            tf2onnx.convert.from_keras(
                model, input_signature=signature, opset=ONNX_OPSET, output_path=str(path)
            )
    return path


class ServedChainMixin:
    """:class:`~skchain.Chain`'s served forms: ``to_keras``, ``export``, ``serving_inputs``."""

    def to_keras(self) -> keras.Model:
        """The whole fitted chain as one ``keras.Model`` of the raw columns.

        One input per column of the features step (see
        :meth:`serving_inputs` for names, shapes and dtypes): network A's
        scaler and network A (the fine-tuned copy after fine-tuning), the
        numeric imputers and scalers, the categorical encoders as lookup
        layers with the fitted vocabularies, entity embeddings and the final
        network. It returns what ``predict`` returns for a regressor and
        what ``predict_proba`` returns for a classifier, equal to float32
        rounding. The model is an independent copy: training it changes
        nothing in the chain.

        Returns
        -------
        keras.Model

        Raises
        ------
        ValueError
            For a block with no served form (``"hash"`` columns, custom
            transformers), naming the block and what can be served.

        Examples
        --------
        >>> model = chain.to_keras()  # doctest: +SKIP
        >>> model(chain.serving_inputs(df_new))  # doctest: +SKIP

        Call the model: Keras' ``Model.predict`` does not take NumPy arrays
        of text (the categorical inputs).
        """
        return to_keras(self)

    def export(
        self,
        path: str | os.PathLike[str],
        format: Literal["tf_saved_model", "onnx"] = "tf_saved_model",
    ) -> Path:
        """Write the fitted chain as one servable model (see :meth:`to_keras`).

        Parameters
        ----------
        path : str or path-like
            A directory for ``"tf_saved_model"``, a file for ``"onnx"``.
        format : {"tf_saved_model", "onnx"}, default="tf_saved_model"
            ``"tf_saved_model"``: a TensorFlow SavedModel whose ``serve``
            endpoint (and ``serving_default`` signature) takes the dict of
            column tensors; it loads with ``tf.saved_model.load`` alone.
            ``"onnx"``: one ONNX file with the same named inputs, run by
            ``onnxruntime`` alone (needs ``pip install "skchain[serve]"``).

        Returns
        -------
        pathlib.Path
            Where it was written.
        """
        return export(self, path, format=format)

    def serving_inputs(self, X: Any) -> dict[str, np.ndarray]:
        """The served model's inputs for a DataFrame: ``{input name: ndarray}``.

        Network A's and numeric columns as float32 ``(n, 1)`` (NaN for a
        missing value where an imputer fills it), categorical columns as
        text ``(n, 1)``, spelled as :class:`~skchain.CategoricalLevels`
        spells levels, with ``"<missing>"`` for a missing value; sequence
        columns padded to ``(n, maxlen)`` float32. Input names are the
        column names with characters other than letters, digits, ``_``,
        ``.`` and ``-`` replaced by ``_``.

        Parameters
        ----------
        X : DataFrame (pandas, polars, ...)

        Returns
        -------
        dict of ndarray
        """
        return serving_inputs(self, X)
