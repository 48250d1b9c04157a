"""acrl-example: the smallest useful acrl plugin, written to be copied.

It adds a constraint family (:class:`AnnulusConstraint`, ``"annulus"``), a named
constraint (``"reacher-annulus"``), an exact projector for the family
(:class:`RadialProjector`, ``"annulus-radial"``) and a task using them
(``ACRL/ReacherAnnulus-v0``); :mod:`acrl_example.plugin` registers them through the
``acrl`` entry point declared in ``pyproject.toml``.
"""

from acrl_example.annulus import AnnulusConstraint, RadialProjector

__all__ = ["AnnulusConstraint", "RadialProjector"]
