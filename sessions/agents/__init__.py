"""Everything corral knows about each agent CLI, one kind per module: `kind_of(kind)` picks it.

`sessions/agents/<kind>.py` holds the kind's `AgentKind` (launch, resume, hook installation,
what `corral init` writes for it), which points at the kind's other parts: its hook's side
(`<kind>_hook.py`), its screen rules (`screens/<kind>.toml`) and its transcript reader
(`sessions/agents/transcripts/<kind>.py`). A new kind is one new module here plus those parts.

The hook entry imports this package on every call of every agent, so this file imports nothing.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from sessions.agents.kind import AgentKind
    from sessions.core.model import Kind


def kind_of(kind: Kind | str) -> AgentKind:
    """The kind's `AgentKind`, from its module `sessions/agents/<kind>.py`."""
    from importlib import import_module

    from sessions.core.model import Kind

    module = import_module(f"{__name__}.{Kind(kind).value}")
    found: AgentKind = module.KIND
    return found
