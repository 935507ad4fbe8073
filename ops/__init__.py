"""Operator tooling: the `lotse` command, the build and training pipeline, the process
runner and the scaled profile, evaluations; it may import every other part."""
