"""Built-in plugins: acrl's own constraint families, projectors and commands.

They register through the same hooks as third-party plugins (see
:mod:`acrl_wrappers.hookspecs`), so what they do is what any plugin can do.
"""
