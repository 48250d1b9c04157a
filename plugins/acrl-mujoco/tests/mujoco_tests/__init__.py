"""Tests: mujoco_tests (a package, so test module names only need to be unique within it)."""
