"""The samples view's reusable widgets: a gallery card and a table row, made once and filled with
sample after sample (a page of new widgets per selection would leave every old one alive in the
kernel and in the browser)."""

from __future__ import annotations

import ipywidgets as W

from ._a11y import NamedImage
from ..core.results.palette import SELECTION
from ._pictures import THUMBNAIL_PX

#: Width in pixels of the index column's buttons.
INDEX_PX = 88


class Card:
    """A card of the gallery, made once and filled with sample after sample (its widgets are
    kept: a page of new cards per selection would leave every old one alive in the kernel and
    in the browser). ``box`` holds only the parts the current sample shows; the parts a kind
    of sample needs (a saliency map, a file name, a text, tags) are made when first shown."""

    def __init__(self, choose):
        self.index = -1
        self.caption = W.HTML()
        self.button = W.Button(description="details", layout=W.Layout(width="80px"))
        self.button.on_click(lambda b: choose(self.index))
        self.box = W.VBox(layout=W.Layout(border="1px solid #ddd", margin="3px", padding="3px", width="150px"))
        self.parts: dict[str, W.Widget] = {}

    def part(self, name: str) -> W.Widget:
        """The card's ``'thumb'``, ``'saliency'`` (image), ``'audio'`` (player), ``'name'``, ``'text'``
        or ``'tags'`` (HTML)."""
        if name not in self.parts:
            px = f"{THUMBNAIL_PX}px"
            if name == "audio":  # a player of the sample's file
                w = W.Audio(format="wav", autoplay=False, loop=False, layout=W.Layout(width="140px"))
            elif name in ("thumb", "saliency"):  # named by its tooltip (see NamedImage)
                w = NamedImage(format="png", layout=W.Layout(max_width=px, max_height=px))
                if name == "saliency":
                    w.add_class("h5eval-saliency")
            else:
                w = W.HTML()
            self.parts[name] = w
        return self.parts[name]

    def show(self, parts: list[W.Widget]) -> W.VBox:
        if tuple(self.box.children) != tuple(parts):
            self.box.children = parts
        self.box.layout.display = None
        self.button.description = "details"
        return self.box

    def mark(self, chosen: bool) -> None:
        """Frame the card thick when its sample is the one chosen (the arrow keys move it)."""
        # the theme's text colour: dark on the light theme, light on the dark one
        thick = f"3px solid var(--jp-ui-font-color0, {SELECTION})"
        border, margin = (thick, "1px") if chosen else ("1px solid #ddd", "3px")
        if self.box.layout.border != border:
            self.box.layout.border, self.box.layout.margin = border, margin

    def hide(self) -> None:
        """Hidden, but left in the gallery: taking a card out and putting it back makes the
        page draw it anew, and the browser kept what each drawing left (tens of kB per card).
        It shows no "details" button and no saliency map meanwhile (pages look for those)."""
        self.box.layout.display = "none"
        self.button.description = " "  # (the page's button keeps its old text when given "")
        saliency = self.parts.get("saliency")
        if saliency is not None and saliency in self.box.children:
            self.box.children = [w for w in self.box.children if w is not saliency]


class Row:
    """A row of the samples table (the index's button, then the cells), made once and filled
    with sample after sample."""

    def __init__(self, choose):
        self.index = -1
        self.button = W.Button(
            tooltip="details of this sample",
            layout=W.Layout(
                width=f"{INDEX_PX}px", min_width=f"{INDEX_PX}px", flex="0 0 auto", height="24px", padding="0 2px"
            ),
        )
        self.button.on_click(lambda b: choose(self.index))
        self.cells = W.HTML()
        self.box = W.HBox([self.button, self.cells], layout=W.Layout(align_items="center"))


def learned_line(epoch) -> str:
    """A card's line saying when a recorded training learned the sample ('' outside training)."""
    if epoch is None:
        return ""
    return "<br>not learned yet" if epoch != epoch else f"<br>learned at epoch {int(epoch)}"
