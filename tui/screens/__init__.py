"""The dashboard and its dialogs: screens orchestrate, widgets only show."""
