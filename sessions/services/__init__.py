"""The second floor: the parts that remember across looks and turn what the adapters read into
the herd's picture: the observer, the coordinator with its conflicts and locks, the notes
tracker, summaries, alerts, worktrees and the work they keep safe. The supervisor composes them.
"""
