"""Test support: a loopback stand-in of the Messages API and the real Claude Code CLI."""
