"""scikit-learn's method decorators, as a type checker should see them.

scikit-learn ships no type information, so a method decorated with
``sklearn.callback.with_callbacks`` or ``available_if`` is ``Any`` to a type
checker, and so is what it returns (``fit``'s ``Self``, ``predict_proba``'s
array). Here both decorators are declared to return the method they wrap;
at run time they are scikit-learn's own.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

__all__ = ["available_if", "with_callbacks"]

_Method = TypeVar("_Method", bound=Callable[..., Any])

if TYPE_CHECKING:

    def with_callbacks(method: _Method) -> _Method: ...

    def available_if(check: Callable[[Any], Any]) -> Callable[[_Method], _Method]: ...

else:
    from sklearn.callback import with_callbacks
    from sklearn.utils._available_if import available_if
