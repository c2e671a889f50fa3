"""Saving and loading chains without pickle.

``joblib.dump``/``joblib.load`` work for every skchain estimator, but loading a
pickle runs whatever code the file names. :func:`save` writes a zip archive
instead:

* ``estimator.skops``: the estimator's structure, parameters and fitted
  attributes as data, in skops' format (``skops.io``), with every Keras
  network replaced by a reference to a member of the archive and every Keras
  callback, optimizer, loss or metric it holds replaced by its Keras config
  (see ``skchain._keras_objects``);
* ``models/<i>.keras``: each Keras network in Keras' own format;
* ``skchain.json``: the versions of skchain, scikit-learn, Keras and
  TensorFlow that wrote it.

:func:`load` accepts only the types skchain, scikeras and scikit-learn use
(plus those the caller names in ``trusted``), loads each network with
``safe_mode=True`` (a ``Lambda`` layer or other code is refused), rebuilds
the Keras objects of Keras' own classes (others only when named in
``trusted``) with Keras' safe-mode deserialization, and warns
when the versions of the libraries differ in major or minor version.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
import zipfile
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Self

import keras
from sklearn import config_context
from sklearn.utils._metadata_requests import SIMPLE_METHODS

from ._keras_objects import Decoder, Encoder, RefusedObject
from ._seeding import nothing_drawn

__all__ = ["SkchainVersionWarning", "UntrustedFileError", "load", "save"]

FORMAT = 1
_ESTIMATOR = "estimator.skops"
_META = "skchain.json"
_LIBRARIES = ("skchain", "scikit-learn", "keras", "tensorflow", "scikeras")

#: Types inside a chain that :func:`load` trusts without being told.
TRUSTED_TYPES = (
    "numpy.dtype",
    "scikeras.utils.transformers.RegressorTargetEncoder",
    # scikit-learn's own callbacks, kept by set_callbacks
    "sklearn.callback._progressbar.ProgressBar",
    "sklearn.callback._scoring_monitor.ScoringMonitor",
    "skchain.adaptation.InputMoments",
    "skchain.chain.Chain",
    "skchain.diagnostics.InputStatistics",
    "skchain.diagnostics.RowFingerprints",
    "skchain.leakage.RowFingerprints",
    "skchain.encoders.CategoricalLevels",
    "skchain.encoders.EncodingColumns",
    "skchain.encoders.HashingEncoder",
    "skchain.finetune.FineTune",
    "skchain.frozen.FrozenTransformer",
    "skchain.passthrough.NetworkAInputs",
    "skchain.persistence.KerasModelReference",
    "skchain._keras_objects.KerasObjectReference",
    "skchain.persistence.RoutingRequests",
    "skchain.preprocessor.KerasTransformer",
    "skchain.regressor.ChainRegressor",
    "skchain.regressor._split_columns",
    "skchain._network._split_columns",
    "skchain.classifier.ChainClassifier",
    "scikeras.utils.transformers.ClassifierLabelEncoder",
    "scikeras.utils.transformers.TargetReshaper",
    "skchain.sequences.SequencePadder",
)


class SkchainVersionWarning(UserWarning):
    """A saved chain was written with another major or minor library version.

    Examples
    --------
    >>> import warnings
    >>> import skchain
    >>> with warnings.catch_warnings():  # doctest: +SKIP
    ...     warnings.simplefilter("error", skchain.SkchainVersionWarning)
    ...     chain = skchain.load("chain.skchain")  # refuse files from other versions
    """


class UntrustedFileError(ValueError):
    """The file holds types or code that :func:`load` was not told to trust."""


class KerasModelReference:
    """Stands for a Keras network stored as ``member`` of the archive."""

    def __init__(self, member: str) -> None:
        self.member = member


class RoutingRequests:
    """An estimator's metadata-routing requests (``set_fit_request`` ...) as plain data.

    scikit-learn keeps them in an object that refers back to the estimator,
    a cycle skops' format cannot hold; :func:`save` stores this instead and
    :func:`load` sets the same requests again.
    """

    def __init__(self, requests: dict[str, dict[str, Any]]) -> None:
        self.requests = requests

    @classmethod
    def of(cls, metadata_request: Any) -> Self:
        """The requests of a ``MetadataRequest``, method by method."""
        return cls(
            {
                method: dict(getattr(metadata_request, method).requests)
                for method in SIMPLE_METHODS
                if getattr(metadata_request, method, None) is not None
                and getattr(metadata_request, method).requests
            }
        )

    def apply(self, estimator: Any) -> None:
        """Set the stored requests on ``estimator`` (as ``set_<method>_request`` would)."""
        del estimator._metadata_request
        with config_context(enable_metadata_routing=True):
            for method, requests in self.requests.items():
                getattr(estimator, f"set_{method}_request")(**requests)


def _versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in _LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            try:
                found[name] = version("tensorflow-cpu") if name == "tensorflow" else None
            except PackageNotFoundError:
                found[name] = None
    return found


def _estimators(obj: Any) -> list[Any]:
    """The estimators in ``obj`` and the scikit-learn objects they hold as attributes.

    The latter (such as scikeras' ``target_encoder_``, which keeps the ``loss``)
    may hold Keras objects too.
    """
    from ._restore import estimators_in

    found = {id(est): est for est in estimators_in(obj)}
    stack = list(found.values())
    while stack:
        for value in vars(stack.pop()).values():
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if (
                    hasattr(item, "get_params")
                    and hasattr(item, "__dict__")
                    and not isinstance(item, type)
                    and id(item) not in found
                ):
                    found[id(item)] = item
                    stack.append(item)
    return list(found.values())


def save(estimator: Any, path: str | os.PathLike) -> None:
    """Write ``estimator`` (any skchain estimator or chain) to ``path`` without pickle.

    Parameters
    ----------
    estimator : estimator
        Fitted or not; the Keras networks it holds are stored in Keras' format,
        the Keras callbacks, optimizers, losses and metrics it holds (as
        parameters or fitted attributes) by their Keras config.
    path : str or Path
        The archive to write (conventionally ``*.skchain``).

    Raises
    ------
    ValueError
        When a Keras object it holds cannot be saved by its config (a
        ``LambdaCallback``, an object without ``get_config``); the message
        names the estimator and the parameter. ``estimator`` is left as it was.

    Examples
    --------
    >>> import skchain
    >>> skchain.save(chain, "chain.skchain")  # doctest: +SKIP
    >>> skchain.load("chain.skchain").predict(df_new)  # doctest: +SKIP
    """
    import skops.io as sio

    members: dict[int, tuple[str, keras.Model]] = {}
    swapped: list[tuple[Any, str, Any]] = []
    objects = Encoder()
    try:
        for est in _estimators(estimator):
            params = est.get_params(deep=False)
            for name, value in list(vars(est).items()):
                if isinstance(value, keras.Model):
                    member = members.setdefault(id(value), (f"models/{len(members)}.keras", value))[
                        0
                    ]
                    swapped.append((est, name, value))
                    setattr(est, name, KerasModelReference(member))
                elif name == "_metadata_request":
                    swapped.append((est, name, value))
                    setattr(est, name, RoutingRequests.of(value))
                else:
                    kind = "parameter" if name in params else "attribute"
                    encoded = objects.encode(value, f"{type(est).__name__} {kind} {name!r}")
                    if encoded is not value:
                        swapped.append((est, name, value))
                        setattr(est, name, encoded)
        data = sio.dumps(estimator)
    finally:
        for est, name, value in swapped:
            setattr(est, name, value)
    meta = {"format": FORMAT, "versions": _versions(), "models": [m for m, _ in members.values()]}
    with (
        tempfile.TemporaryDirectory() as tmp,
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        archive.writestr(_META, json.dumps(meta, indent=2))
        archive.writestr(_ESTIMATOR, data)
        for member, model in members.values():
            file = Path(tmp) / Path(member).name
            model.save(file)
            archive.write(file, member)


def _major_minor(text: str | None) -> tuple[str, ...] | None:
    return tuple(text.split(".")[:2]) if text else None


def _check_versions(saved: dict[str, str | None], path: str | os.PathLike) -> None:
    here = _versions()
    changed = [
        f"{name} {saved.get(name)} (saved) vs {here[name]} (here)"
        for name in _LIBRARIES
        if saved.get(name)
        and here.get(name)
        and _major_minor(saved[name]) != _major_minor(here[name])
    ]
    if changed:
        warnings.warn(
            f"skchain.load: {path} was written with other library versions: "
            + "; ".join(changed)
            + ". Predictions may differ; refit with the installed versions to be sure.",
            SkchainVersionWarning,
            stacklevel=3,
        )


def _trusted_names(trusted: Iterable[Any] | str | None) -> list[str]:
    """``trusted`` as the archive names things: dotted names as given, functions and classes
    by ``module.qualname`` (one name alone counts as a list of one)."""
    items = [trusted] if isinstance(trusted, str) else list(trusted or [])
    names = []
    for item in items:
        if isinstance(item, str):
            names.append(item)
        elif callable(item) and isinstance(getattr(item, "__qualname__", None), str):
            names.append(f"{item.__module__}.{item.__qualname__}")
        else:
            raise TypeError(
                "skchain.load: trusted= takes dotted names (such as"
                f" 'mypackage.build_network_a') or the functions and classes; got {item!r}"
            )
    return names


def load(path: str | os.PathLike, trusted: Iterable[Any] | str | None = None) -> Any:
    """Read an archive written by :func:`save`, running no code from it.

    Parameters
    ----------
    path : str or Path
        The archive.
    trusted : list of str, functions or classes, default=None
        Further types or functions to accept, by their full name (for example
        the module-level function that builds your network A, such as
        ``"mypackage.networks.build_network_a"``, or the function itself), or
        your own Keras callback,
        loss, metric or optimizer classes (``"mypackage.MyCallback"``).
        Everything else that is not part of scikit-learn, scikeras, skchain or
        Keras is refused, as are Keras callbacks that write files or send data
        (``ModelCheckpoint``, ``CSVLogger``, ``TensorBoard``, ...) unless named
        (``"keras.callbacks.CSVLogger"``).

    Returns
    -------
    estimator

    Raises
    ------
    TypeError
        For a ``trusted`` item that is neither a name nor a function or class.
    UntrustedFileError
        When the archive names a type or function not trusted, holds
        something other than skops data, or a network or Keras object that
        Keras' safe mode refuses (such as a ``Lambda`` layer).

    Examples
    --------
    >>> import skchain
    >>> trusted = ["mypackage.build_network_a"]
    >>> chain = skchain.load("chain.skchain", trusted=trusted)  # doctest: +SKIP
    >>> chain.predict(df_new)  # doctest: +SKIP
    """
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    trusted = _trusted_names(trusted)

    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise UntrustedFileError(f"skchain.load: {path} is not a skchain archive ({exc})") from None
    with archive, tempfile.TemporaryDirectory() as tmp:
        names = set(archive.namelist())
        if not {_META, _ESTIMATOR} <= names:
            raise UntrustedFileError(
                f"skchain.load: {path} is not a skchain archive (it lacks {_META} or {_ESTIMATOR})"
            )
        meta = json.loads(archive.read(_META))
        _check_versions(meta.get("versions", {}), path)
        data = archive.read(_ESTIMATOR)
        allowed = list(TRUSTED_TYPES) + list(trusted or [])
        try:
            untrusted = [t for t in sio.get_untrusted_types(data=data) if t not in allowed]
        except Exception as exc:
            raise UntrustedFileError(
                f"skchain.load: {path}: {_ESTIMATOR} is not skops data "
                f"({type(exc).__name__}: {exc})"
            ) from None
        if untrusted:
            raise UntrustedFileError(
                f"skchain.load: {path} refers to {untrusted}, which are not trusted. If"
                " you know them (for example your own network-building function),"
                " pass them in trusted=[...]."
            )
        try:
            estimator = sio.loads(data, trusted=allowed)
        except UntrustedTypesFoundException as exc:
            raise UntrustedFileError(f"skchain.load: {path}: {exc}") from None
        networks, objects = {}, Decoder(trusted or [])
        for est in _estimators(estimator):
            for name, value in list(vars(est).items()):
                if isinstance(value, KerasModelReference):
                    if value.member not in networks:
                        with nothing_drawn():
                            networks[value.member] = _load_network(archive, value.member, tmp, path)
                    setattr(est, name, networks[value.member])
                elif isinstance(value, RoutingRequests):
                    value.apply(est)
                else:
                    try:
                        decoded = objects.decode(value)
                    except RefusedObject as exc:
                        raise UntrustedFileError(
                            f"skchain.load: {path}: {exc}"
                            + (
                                ", which are not trusted. If you know them, pass them in"
                                " trusted=[...]."
                                if exc.names
                                else ""
                            )
                        ) from None
                    if decoded is not value:
                        setattr(est, name, decoded)
    return estimator


def _load_network(
    archive: zipfile.ZipFile, member: str, tmp: str, path: str | os.PathLike
) -> keras.Model:
    if member not in archive.namelist():
        raise UntrustedFileError(f"skchain.load: {path} lacks the network {member}")
    file = Path(tmp) / Path(member).name
    file.write_bytes(archive.read(member))
    try:
        return keras.saving.load_model(file, safe_mode=True)
    except Exception as exc:
        raise UntrustedFileError(
            f"skchain.load: {path}: the network {member} could not be loaded by Keras"
            " with safe_mode=True: it refuses code (Lambda layers), and a layer or model"
            " class of your own loads only once the module that registers it"
            " (keras.saving.register_keras_serializable) is imported before"
            f" skchain.load. Keras said: {exc}"
        ) from None
