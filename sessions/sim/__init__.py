"""The simulated agent: a stand-in for a coding agent CLI that needs no network.

corral's demo, tests and benchmarks run it in tmux panes, where it draws a screen shaped like
Claude Code's, does real work in its git worktree and reports its tool calls to the journal.
Run it with `python -m sessions.sim`; `sessions.sim.main` has the options.
"""
