"""The simulated agent pipes Claude Code's payloads and speaks its tool names."""

from sessions.agents.claude_hook import TOOLS
from sessions.agents.hook_part import HookPart

PART = HookPart(stdin=True, tools=TOOLS, tool_events=True, spools=True)
