"""好差评: a score from 1 to 5 and an optional comment, in a small dialog."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Label

from screens.dialogs.small import SmallDialog


class RatingDialog(SmallDialog):
    """Score, then comment; the result is ``(score, comment)``."""

    def fields(self) -> ComposeResult:
        """Score and comment."""
        yield Label(self.t("ui.case.score"))
        yield Input(id="case-score", max_length=1, restrict=r"[1-5]*")
        yield Label(self.t("ui.case.comment"))
        yield Input(id="case-comment", max_length=500)

    def _score(self) -> int | None:
        value = self.query_one("#case-score", Input).value.strip()
        if value not in {"1", "2", "3", "4", "5"}:
            self.fail(self.t("error.rating.range"))
            self.query_one("#case-score", Input).focus()
            return None
        return int(value)

    @on(Input.Submitted, "#case-score")
    def _next(self) -> None:
        if self._score() is not None:
            self.fail("")
            self.query_one("#case-comment", Input).focus()

    @on(Input.Submitted, "#case-comment")
    def _done(self) -> None:
        score = self._score()
        if score is not None:
            self.dismiss((score, self.query_one("#case-comment", Input).value))
