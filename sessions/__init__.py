"""The headless core of corral: everything but drawing.

Importable without a terminal so the command line, the hook entry, the benchmarks and the tests
can all drive it directly. Never imports textual or rich.
"""
