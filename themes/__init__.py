"""corral's bundled themes, one TOML file each.

This folder is a package only so that the wheel (where it ships as `tui.bundled_themes`) and an
editable checkout both find the files through importlib.resources; it holds no code.
"""
