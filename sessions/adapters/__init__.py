"""The first floor: corral's hands on the outside world, each wrapping one thing it reads or
writes: tmux, git, the process table, the journal and its feed, config files, private state
files. They import values from `core` and nothing above; what they remember is a file position
or a cache, never a judgement.
"""
