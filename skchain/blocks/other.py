"""Blocks no other kind claims: computed by their own fitted transformer."""

from __future__ import annotations

from ._base import Block
from .registry import register_block

__all__ = ["OtherBlock"]


@register_block(fallback=True)
class OtherBlock(Block):
    """Any other fitted transformer: its output enters the graph as it writes it, through a
    Dense branch of the final network; it has no served form."""

    kind = "other"
