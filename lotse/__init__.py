"""Operator tooling for Lotse: settings, the build/train pipeline and the `lotse` command."""
