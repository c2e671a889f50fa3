"""Every public name has a numpydoc docstring with an example; the package is typed."""

import inspect
from pathlib import Path

import pytest

import skchain
import skchain.plot

PUBLIC = [(name, getattr(skchain, name)) for name in skchain.__all__ if name != "__version__"]
PUBLIC += [(f"plot.{name}", getattr(skchain.plot, name)) for name in skchain.plot.__all__]


@pytest.mark.parametrize("name, obj", PUBLIC, ids=[name for name, _ in PUBLIC])
def test_public_docstring_has_an_example(name, obj):
    doc = inspect.getdoc(obj)
    assert doc, name
    assert "Examples\n--------\n>>>" in doc, f"{name}: no Examples section"
    takes_arguments = not (isinstance(obj, type) and issubclass(obj, Warning)) and bool(
        inspect.signature(obj).parameters
    )
    if takes_arguments:
        assert "Parameters\n----------" in doc, f"{name}: no Parameters section"


def test_package_ships_py_typed_and_annotates_its_factories():
    assert (Path(skchain.__file__).parent / "py.typed").exists()
    for function in (
        skchain.make_chain,
        skchain.make_categorical_encoder,
        skchain.save,
        skchain.load,
        skchain.plot.plot_history,
        skchain.plot.plot_shift,
    ):
        signature = inspect.signature(function)
        assert signature.return_annotation is not inspect.Signature.empty, function.__name__
        annotated = [
            p for p in signature.parameters.values() if p.annotation is not inspect.Parameter.empty
        ]
        assert len(annotated) == len(signature.parameters), function.__name__


def test_type_hints_of_the_public_api_resolve():
    import typing

    for name, obj in PUBLIC:
        if name.startswith("plot."):
            continue  # matplotlib's types are named for type checkers only (imported lazily)
        target = obj.__init__ if isinstance(obj, type) and not issubclass(obj, Warning) else obj
        if isinstance(obj, type) and issubclass(obj, Warning):
            continue
        typing.get_type_hints(target)  # raises if an annotation names something unknown
    hints = typing.get_type_hints(skchain.ChainRegressor.__init__)
    assert {"hidden_units", "embedding_dim", "token_embedding_dim"} <= set(hints)
