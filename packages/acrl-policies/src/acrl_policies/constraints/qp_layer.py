"""The projection onto a QP-representable set as a differentiable torch function.

Forward: ``min 1/2 ||x - a||^2`` over ``l <= M [x; t] <= u`` and the box (the
constraint's :meth:`~acrl_wrappers.Constraint.qp_form`), one OSQP problem set up once and
updated in place per row, then polished on the active rows (the KKT system with those
rows as equalities), so the result is exact and tells its active set.

Backward: implicit differentiation of that KKT system. With ``P = diag(I, 0)`` and the
active rows ``C_A``, ``[[P, C_A^T], [C_A, 0]] [dz; dy] = [da; 0; 0]``; the system is
symmetric, so the vector-Jacobian product is one batched solve with the incoming
gradient on the right. Inactive rows stay in the system with ``-1`` on the diagonal, so
every row of the batch has the same size; active rows get ``-1e-9``, which keeps the
system quasi-definite, hence solvable, when active rows are redundant (at a vertex).
Auxiliary variables that no active row fixes get ``1e-9`` on the diagonal, which
decouples them without moving ``dx``.

Why this and not OSQP's own adjoint derivatives, qpth or cvxpylayers: see
``benchmarks/results/baseline_layers.md``. OSQP's ``adjoint_derivative_compute`` needs
the solver of that very row, so a batch re-solves every row in the backward pass, and its
gradient there was off by up to 0.1 from the exact one (ours: 1e-6), as it differentiates
OSQP's unpolished iterate; qpth and cvxpylayers (not installed here) solve every QP again
by an interior-point method. The active set comes for free from the polished forward,
and one batched ``torch.linalg.solve`` answers the backward pass for all rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import osqp
import scipy.sparse as sp
import torch

from acrl_wrappers import Constraint
from acrl_wrappers.errors import ProjectionError
from acrl_wrappers.projection.osqp_projector import OSQP_SETTINGS
from acrl_wrappers.projection.qp import QPForm

__all__ = ["QPProjection"]

_ACTIVE = 1e-7  # relative slack under which a row counts as active
_AUX_REG = 1e-9
_ROW_REG = 1e-9  # on active rows: a quasi-definite system even when active rows are redundant
_ACCEPTED = {osqp.SolverStatus.OSQP_SOLVED, osqp.SolverStatus.OSQP_SOLVED_INACCURATE}


class QPProjection:
    """Exact projections onto a QP-representable constraint, with their active sets.

    Args:
        constraint: a convex constraint with a :meth:`~acrl_wrappers.Constraint.qp_form`.

    Raises:
        ProjectionError: the constraint has no QP form.

    Example:
        >>> import acrl_wrappers as acrl
        >>> layer = QPProjection(acrl.make_constraint("linear", A=[[1.0, 1.0], [1.0, -1.0]],
        ...                                           b=[0.5, 0.0]))
        >>> a = torch.tensor([[1.0, 0.2]], dtype=torch.float64, requires_grad=True)
        >>> x = layer(a, None)
        >>> x.detach().round(decimals=6).tolist()
        [[0.25, 0.25]]
        >>> x[0, 0].backward(); a.grad.tolist()  # both rows active: x is fixed
        [[0.0, 0.0]]
    """

    def __init__(self, constraint: Constraint) -> None:
        form = constraint.qp_form()
        if form is None:
            raise ProjectionError(f"{constraint!r} has no QP form", status="unsupported")
        box = QPForm.constant(np.eye(constraint.dim), constraint.low, constraint.high)
        self.constraint = constraint
        self.form = QPForm.stack([form, box]) if form.n_rows else box
        self._solver: Any = None
        self._entries: np.ndarray | None = None
        self.solves = 0

    def __call__(self, actions: torch.Tensor, obs: np.ndarray | None) -> torch.Tensor:
        """Project ``(N, dim)`` actions (with ``(N, k)`` numpy observations or ``None``)."""
        return _QPFunction.apply(actions, obs, self)

    # ------------------------------------------------------------------ forward
    def solve(
        self, actions: np.ndarray, obs: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact solutions ``z = [x; t]`` ``(N, n)``, row matrices ``(N, m, n)``, active masks.

        Raises:
            ProjectionError: OSQP found no solution for a row (an empty set in that state).
        """
        n_rows, d, n = actions.shape[0], self.constraint.dim, self.form.n_vars
        z = np.empty((n_rows, n))
        matrices = np.zeros((n_rows, self.form.n_rows, n))
        active = np.zeros((n_rows, self.form.n_rows), dtype=bool)
        for i in range(n_rows):
            row_obs = None if obs is None else obs[min(i, obs.shape[0] - 1)].reshape(1, -1)
            entries, lower, upper = self.form.values(row_obs)
            q = np.zeros(n)
            q[:d] = -actions[i]
            result = self._solve_one(q, entries, lower, upper)
            m = matrices[i]
            m[self.form.rows, self.form.cols] = entries
            z[i], active[i] = _polish(result, m, q, lower, upper, d)
        self.solves += n_rows
        return z, matrices, active

    def _solve_one(
        self, q: np.ndarray, entries: np.ndarray, lower: np.ndarray, upper: np.ndarray
    ) -> np.ndarray:
        if self._solver is None:
            d, n = self.constraint.dim, self.form.n_vars
            p = sp.triu(sp.diags(np.r_[np.ones(d), np.zeros(n - d)]), format="csc")
            self._solver = osqp.OSQP()
            self._solver.setup(p, q, self.form.matrix(entries), lower, upper, **OSQP_SETTINGS)
            self._entries = entries
        elif self.form.state_dependent and not np.array_equal(entries, self._entries):
            self._entries = entries
            self._solver.update(q=q, l=lower, u=upper, Ax=entries[self.form.csc_order])
        else:
            self._solver.update(q=q, l=lower, u=upper)
        result = self._solver.solve(raise_error=False)
        if result.info.status_val not in _ACCEPTED:
            raise ProjectionError(
                f"OSQP could not project the action: status {result.info.status!r} "
                "(an empty constraint for this observation?)",
                status=str(result.info.status),
            )
        return np.asarray(result.x, dtype=np.float64)

    def __getstate__(self) -> dict[str, Any]:
        return {"constraint": self.constraint}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["constraint"])  # type: ignore[misc]


def _polish(
    z: np.ndarray,
    matrix: np.ndarray,
    q: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    d: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The exact solution on the rows OSQP found active, and that active set."""
    n = matrix.shape[1]
    values = matrix @ z
    slack = _ACTIVE * (1.0 + np.abs(values)) + 1e-8
    upper_active = np.isfinite(upper) & (values >= upper - slack)
    lower_active = np.isfinite(lower) & (values <= lower + slack) & ~upper_active
    active = upper_active | lower_active
    kkt = kkt_matrix(matrix[None], active[None], d)[0]
    rhs = np.concatenate([-q, np.where(active, np.where(upper_active, upper, lower), 0.0)])
    try:
        solution = np.linalg.solve(kkt, rhs)
    except np.linalg.LinAlgError:
        solution = np.linalg.lstsq(kkt, rhs, rcond=None)[0]
    x = solution[:n]
    if not np.isfinite(x).all() or np.abs(x[:d] - z[:d]).max() > 1e-3:
        return z, active  # the polish disagrees: keep OSQP's answer
    return x, active


def kkt_matrix(matrices: Any, active: Any, d: int) -> Any:
    """The masked KKT matrices ``[[P, C^T D], [D C, -eps D + D - I]]`` (numpy or torch).

    Args:
        matrices: ``(N, m, n)`` row matrices ``C``.
        active: ``(N, m)`` active masks ``D``.
        d: number of action variables (``P = diag(1_d, 1e-9 ...)``).

    Example:
        >>> kkt_matrix(np.array([[[1.0, 1.0]]]), np.array([[True]]), 2)[0].round(6).tolist()
        [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0]]
    """
    lib = torch if isinstance(matrices, torch.Tensor) else np
    n_batch, m, n = matrices.shape
    mask = active.to(matrices.dtype) if lib is torch else active.astype(np.float64)
    masked = matrices * mask[:, :, None]
    top_diag = lib.concatenate if lib is np else torch.cat
    p = top_diag([lib.ones(d, **_like(matrices)), lib.full((n - d,), _AUX_REG, **_like(matrices))])
    kkt = lib.zeros((n_batch, n + m, n + m), **_like(matrices))
    idx = lib.arange(n + m) if lib is np else torch.arange(n + m, device=matrices.device)
    kkt[:, idx[:n], idx[:n]] = p
    kkt[:, :n, n:] = masked.transpose(0, 2, 1) if lib is np else masked.transpose(1, 2)
    kkt[:, n:, :n] = masked
    kkt[:, idx[n:], idx[n:]] = mask * (1.0 + _ROW_REG) - 1.0  # -1e-9 on active rows
    return kkt


def _like(array: Any) -> dict[str, Any]:
    if isinstance(array, torch.Tensor):
        return {"dtype": array.dtype, "device": array.device}
    return {"dtype": np.float64}


class _QPFunction(torch.autograd.Function):
    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, actions: torch.Tensor, obs: np.ndarray | None, layer: QPProjection
    ) -> torch.Tensor:
        a = actions.detach().cpu().double().numpy()
        z, matrices, active = layer.solve(a, obs)
        d = layer.constraint.dim
        ctx.d = d
        ctx.save_for_backward(
            torch.as_tensor(matrices, dtype=torch.float64, device=actions.device),
            torch.as_tensor(active, device=actions.device),
        )
        x = np.clip(z[:, :d], layer.constraint.low, layer.constraint.high)
        return torch.as_tensor(x, dtype=actions.dtype, device=actions.device)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        matrices, active = ctx.saved_tensors
        n_batch, m, n = matrices.shape
        kkt = kkt_matrix(matrices, active, ctx.d)
        rhs = torch.zeros((n_batch, n + m), dtype=torch.float64, device=matrices.device)
        rhs[:, : ctx.d] = grad_output.to(torch.float64)
        solution = torch.linalg.solve(kkt, rhs)
        return solution[:, : ctx.d].to(grad_output.dtype), None, None
