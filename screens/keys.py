"""Key bindings whose descriptions are message keys, shown in the operator's language."""

from __future__ import annotations

from dataclasses import replace

from textual.dom import DOMNode

from workstation.i18n import translate


def localise_bindings(node: DOMNode, language: str) -> None:
    """Replace every binding description of ``node`` (a message key) by its translation."""
    table = node._bindings.key_to_bindings
    for key, bindings in table.items():
        table[key] = [
            replace(b, description=translate(b.description, language)) if b.description else b
            for b in bindings
        ]
