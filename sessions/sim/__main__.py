"""Lets corral start the simulated agent as `python -m sessions.sim`."""

from sessions.sim.main import main

raise SystemExit(main())
