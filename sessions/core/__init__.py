"""The ground floor: the values corral passes around (specs, rules, snapshots, verdicts, the
journal's vocabulary) and the pure judgements made of them (status, roles, screen rules, lock
files, note text, prices). Nothing here runs a process, opens a file of the herd or keeps state
between calls, so every other floor can import it and every test can feed it recorded input.
"""
