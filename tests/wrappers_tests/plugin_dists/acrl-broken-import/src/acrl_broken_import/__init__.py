"""A plugin whose import fails."""

raise ImportError("this plugin needs a module that is not installed")
