"""Where a copy syncs: the route, from its local state alone (no git needed)."""

from __future__ import annotations

from dataclasses import dataclass

from gitsync.config import LocalState

LINE_GONE = "parent-line-gone"  # last_sync's state: the parent answered without its shared line


@dataclass
class Route:
    """One place a copy may sync with."""

    name: str  # peer | top-level | parent | ancestor-N
    address: str
    # The copy's remote ``parent`` when this route is the same place: a plain-git user's
    # ``parent/main`` then follows every fetch and push (one refspec more, no process more).
    mirrors: tuple[str, ...] = ()

    @property
    def mirror_prefixes(self) -> list[str]:
        return [f"refs/remotes/{name}" for name in self.mirrors]

    @property
    def tracking_prefix(self) -> str:
        return f"refs/remotes/{self.name}"

    @property
    def tracking_ref(self) -> str:
        """The parent's shared line as last seen here."""
        return f"{self.tracking_prefix}/main"

    def last_sync(self) -> dict[str, str]:
        """What the copy notes (``last_sync`` in sync.yaml) of a sync that went this way."""
        state = "online-peer" if self.name == "peer" else "online"
        return {"state": state, "route": self.name, "address": self.address}

    def line_gone(self) -> dict[str, str]:
        """What the copy notes of a sync that found this way's shared line gone (status repeats it)."""
        return {"state": LINE_GONE, "route": self.name, "address": self.address}


def routes_of(state: LocalState | None) -> list[Route]:
    """The places a copy syncs with, in order of preference (DESIGN section 2).

    The peer parent when one is set, else the top-level parent, else each
    parent up the hierarchy from the nearest.
    """
    if state is None or state.role != "child":
        return []
    found: list[Route] = []
    if state.peer:
        found.append(Route("peer", state.peer))
    if state.top_level:
        found.append(Route("top-level", state.top_level))
    for index, address in enumerate(state.ancestors or ([state.parent] if state.parent else [])):
        if any(r.address == address for r in found):
            continue
        found.append(Route("parent" if index == 0 else f"ancestor-{index}", address))
    return [
        Route(r.name, r.address, ("parent",))
        if r.name != "parent" and r.address == state.parent
        else r
        for r in found
    ]
