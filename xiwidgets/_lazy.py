"""Package attributes imported on first use (PEP 562), for ``xiwidgets`` and its widgets.

``import xiwidgets`` must stay fast: the widgets pull in ipywidgets and the client, and the
experiments pandas and Whisper, so each public name is imported only when it is first read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(
    package: str, names: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], object]:
    """A module ``__getattr__`` that imports each of ``names`` from its module when first read.

    Parameters
    ----------
    package : str
        The package's name, for the ``AttributeError`` of an unknown name.
    names : mapping of str to str
        Each public name and the module it is defined in.
    namespace : dict
        The package's ``globals()``: a name, once imported, is stored there, so later reads
        skip ``__getattr__``.

    Returns
    -------
    callable
        The function to assign to the package's ``__getattr__``.
    """

    def __getattr__(name: str) -> object:  # noqa: N807 - the PEP 562 hook's own name
        module_name = names.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_name), name)
        namespace[name] = value
        return value

    return __getattr__
