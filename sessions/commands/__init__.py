"""The third floor: one helper per thing the user asks for that is more than a call on the
supervisor: setting a repository up (`init`), checking the machine (`doctor`), the demo and its
sandbox, starting an agent's runner in its pane, typing into an agent's box, attaching.
"""
