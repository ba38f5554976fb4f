"""An unseen widget that keeps a team board in step with its store, and reports up what it finds."""

from __future__ import annotations

from textual import work
from textual.widget import Widget

from wahdx_tui.core.domain.model import WatchedPost
from wahdx_tui.core.store.protocol import StoreError
from wahdx_tui.core.team.engine import TeamEngine
from wahdx_tui.ui.messages import HistoryRestored, PostRechecked, TeamFollowed


class TeamFollower(Widget):
    """Joins the team, then follows the store for as long as the board runs (its own worker)."""

    DEFAULT_CSS = "TeamFollower { display: none; }"

    def __init__(self, engine: TeamEngine) -> None:
        super().__init__()
        self.engine = engine

    def on_mount(self) -> None:
        """Start following."""
        self._follow()

    @work(exclusive=False, exit_on_error=False, group="team")
    async def _follow(self) -> None:
        engine = self.engine
        try:
            await engine.join()
        except StoreError as exc:
            self.notify(f"store unreachable: {exc}", severity="error", markup=False)
        self.post_message(HistoryRestored(await engine.restore()))
        said: tuple[object, ...] | None = None
        while True:
            outcome = await engine.follow()
            # Posted when there is news, and whenever what the banner and the rows say
            # changes: no poller, the store unreachable, rows stale, or all of it over.
            now = (outcome.poller_gone, outcome.store_error is None, engine.board.any_unanswered())
            if said is None or not outcome.quiet or now != said:
                said = now
                self.post_message(TeamFollowed(outcome))

    @work(exclusive=False, exit_on_error=False, group="team-recheck")
    async def recheck(self, post: WatchedPost) -> None:
        """The poller re-checks a post a board asked about."""
        self.post_message(PostRechecked(await self.engine.recheck(post)))

    @work(exclusive=False, exit_on_error=False, group="team-refresh")
    async def ask_for_refresh(self) -> None:
        """An attached board's `r`: the poller is asked for a pass of every post."""
        try:
            await self.engine.request_refresh()
        except StoreError as exc:
            self.notify(f"refresh not asked: {exc}", severity="error", markup=False)
        else:
            self.notify("asked the poller to refresh every post", markup=False)
