"""The projection onto ``{X >= eps I} ∩ [low, high]``: the PSD / PD cone inside the action box.

Eigenvalue clipping (:func:`~acrl_wrappers.projection.spectral.clip_actions`) is the
projection onto the cone; where its result leaves the box, the projection onto the
intersection solves, in the ``svec`` coordinates of the symmetric matrix (an isometry),

    y = P(x + z),   y = clip(y - z, low, high)

for the box's multipliers ``z`` (``P`` eigenvalue clipping; ``z_k > 0`` only where ``y_k``
sits at ``low_k``, ``z_k < 0`` only at ``high_k``): the KKT conditions of
``min ||y - x||`` over the intersection. Where the clipping leaves the box by one
diagonal entry (nearly always, for actions in the box), the guess ``z = t e_k`` turns
them into one equation in ``t``, solved by scalar Newton in three or four evaluations.
Other rows, and rows whose answer refutes the guess, go to a semismooth Newton method
(the generalised Jacobian of ``P`` from the eigen-decomposition, Daleckii-Krein's divided
differences; the box's from which entries are inside it), converging in two to four
iterations where Dykstra's alternating projections need 13 to 20. Rows it does not solve
to ``1e-12`` within ``_NEWTON_ITERATIONS`` (a singular Jacobian, a cycling active set) go
to Dykstra's method. Either limit is then made feasible by a step toward a strictly
feasible ``diag`` anchor no longer than the remaining error.
"""

from __future__ import annotations

import numpy as np

from acrl_wrappers._arrays import FloatArray
from acrl_wrappers.projection.small_symmetric import clip_with_diagonal_at
from acrl_wrappers.projection.spectral import SymmetricLayout, clip_actions, clip_eigenvalues

__all__ = ["project_psd_box"]

_NEWTON_ITERATIONS = 8
_NEWTON_STOP = 1e-12
_NEWTON_RIDGE = 1e-12  # keeps a Jacobian with a constant direction solvable
_DYKSTRA_ITERATIONS = 500
_DYKSTRA_STOP = 1e-11
_BOX_SLACK = 1e-12
_SCALAR_ROWS = 16  # up to this many box-leaving rows, 2 x 2 and 3 x 3 go one by one


def project_psd_box(
    x: FloatArray,
    layout: SymmetricLayout,
    eps: float,
    low: FloatArray,
    high: FloatArray,
    anchor: FloatArray,
) -> FloatArray:
    """Project ``(N, dim)`` actions onto ``{X >= eps I} ∩ [low, high]``.

    Args:
        x: actions.
        layout: the matrix layout.
        eps: the smallest eigenvalue allowed.
        low: lower bounds of the action box.
        high: upper bounds of the action box.
        anchor: a ``(dim,)`` action in the box whose matrix has ``lambda_min >= eps``.

    Returns:
        the projections: eigenvalue clipping where it lands in the box, else the
        intersection's projection (Newton, Dykstra for the rows Newton leaves) made
        feasible along the segment to ``anchor``.

    Example:
        >>> lay = SymmetricLayout(n=2)
        >>> x = np.array([[2.0, 0.0, -1.0]])  # diag(2, -1): clipping gives diag(2, 0.1)
        >>> low, high = np.full(3, -1.0), np.full(3, 1.0)
        >>> project_psd_box(x, lay, 0.1, low, high, np.array([1.0, 0.0, 1.0])).round(6)
        array([[1. , 0. , 0.1]])
    """
    clipped = clip_actions(x, layout, eps)
    outside = np.flatnonzero(((clipped < low - _BOX_SLACK) | (clipped > high + _BOX_SLACK)).any(1))
    y = np.minimum(np.maximum(clipped, low), high)  # rounding at a face (<= 1e-12) is clipped away
    if not outside.size:
        return y
    # the rows leaving the box, in svec entries (a "full" action's asymmetric part is
    # orthogonal to every symmetric matrix: dropped)
    svec = layout if layout.layout == "svec" else SymmetricLayout(n=layout.n)
    u, lo, hi = (_svec_entries(v, layout, svec) for v in (x[outside], low[None], high[None]))
    lo, hi = lo[0], hi[0]
    cone = _svec_entries(clipped[outside], layout, svec)
    out, solved = _one_diagonal_newton(u, cone, svec, eps, lo, hi)
    left = np.flatnonzero(~solved)
    if left.size:  # several entries at the box, or a guess the KKT conditions refute
        out[left], solved[left] = _newton(u[left], svec, eps, lo, hi)
        left = left[~solved[left]]
    if left.size:
        limits = _dykstra(u[left], clipped[outside][left], svec, layout, eps, lo, hi)
        out[left] = svec.to_action(limits)
    feasible = _feasible(np.minimum(np.maximum(out, lo), hi), svec, layout, eps, anchor)
    y[outside] = np.minimum(np.maximum(feasible, low), high)  # the step's roundoff (1 ulp)
    return y


def _svec_entries(a: FloatArray, layout: SymmetricLayout, svec: SymmetricLayout) -> FloatArray:
    """``svec`` entries of the symmetric matrices of ``layout`` actions (``a`` itself for svec)."""
    return a if layout is svec else svec.to_action(layout.symmetric(a))


def _one_diagonal_newton(
    u: FloatArray,
    cone: FloatArray,
    svec: SymmetricLayout,
    eps: float,
    lo: FloatArray,
    hi: FloatArray,
) -> tuple[FloatArray, np.ndarray]:
    """Scalar Newton for the rows whose clipping ``cone`` leaves the box by one diagonal entry.

    The guess for such a row is ``z = t e_k`` (``k`` that entry): solve ``g(t) = P(X + t
    E_kk)_kk - bound = 0``, whose slope is ``w^T Omega w`` with ``w`` the squared ``k``-th
    row of the eigenvectors (:func:`_divided_differences`, in one
    direction); no ``d x d`` Jacobian, no solve. The guess holds where ``t`` has the sign
    the KKT conditions ask (``<= 0`` at ``high``, ``>= 0`` at ``low``) and every other entry
    lands in the box; the other rows come back not ``solved``, for :func:`_newton`.
    """
    out = np.empty_like(u)
    solved = np.zeros(u.shape[0], dtype=bool)
    above, below = cone > hi + _BOX_SLACK, cone < lo - _BOX_SLACK
    leaving = above | below
    one = np.flatnonzero((leaving.sum(axis=1) == 1) & leaving[:, svec.diagonal].any(axis=1))
    if not one.size:
        return out, solved
    entry = leaving[one].argmax(axis=1)
    upper = above[one, entry]
    bound = np.where(upper, hi[entry], lo[entry])
    k = np.searchsorted(svec.diagonal, entry)  # the matrix row of each svec diagonal entry
    y, t, converged = _diagonal_clip(u[one], k, bound, svec, eps)
    y[np.arange(one.size), entry] = bound
    inside = ((y >= lo - _BOX_SLACK) & (y <= hi + _BOX_SLACK)).all(axis=1)
    holds = converged & inside & np.where(upper, t <= 0.0, t >= 0.0)
    out[one[holds]], solved[one[holds]] = y[holds], True
    return out, solved


def _diagonal_clip(
    u: FloatArray, k: np.ndarray, bound: FloatArray, svec: SymmetricLayout, eps: float
) -> tuple[FloatArray, FloatArray, np.ndarray]:
    """``(clip(X + t E_kk), t, converged)`` per row (svec entries), ``t`` solving ``_kk = bound``.

    A few small matrices go one by one through the plain-Python closed forms (a numpy
    call costs more than a 3 x 3 matrix's arithmetic); many, larger ones and the rows
    the closed forms decline, through batched LAPACK.
    """
    y, t = np.empty_like(u), np.zeros(u.shape[0])
    converged = np.zeros(u.shape[0], dtype=bool)
    if svec.n in (2, 3) and u.shape[0] <= _SCALAR_ROWS:
        entries = (u / svec._scale).tolist()
        for i, (m, row, b) in enumerate(zip(entries, k.tolist(), bound.tolist(), strict=True)):
            root = clip_with_diagonal_at(m, row, b, eps)
            if root is not None:
                y[i], t[i], converged[i] = root[0], root[1], True
        y[converged] *= svec._scale
    rest = np.flatnonzero(~converged)
    if rest.size:
        lam, vectors, t[rest], converged[rest] = _diagonal_root(
            svec.to_matrix(u[rest]), k[rest], bound[rest], eps
        )
        y[rest] = svec.to_action((vectors * np.maximum(lam, eps)[:, None, :]) @ _t(vectors))
    return y, t, converged


def _diagonal_root(
    x: FloatArray, k: np.ndarray, bound: FloatArray, eps: float
) -> tuple[FloatArray, FloatArray, FloatArray, np.ndarray]:
    """``t`` with ``P(X + t E_kk)_kk = bound`` per row, by Newton from 0.

    Returns ``(lambda, V, t, converged)``: ``lambda, V`` the eigen-decomposition of
    ``X + t E_kk`` at the returned ``t``.
    """
    rows = np.arange(x.shape[0])
    m = x.copy()
    start = m[rows, k, k].copy()
    t = np.zeros(x.shape[0])
    for _ in range(_NEWTON_ITERATIONS):
        m[rows, k, k] = start + t
        lam, vectors = np.linalg.eigh(m)
        w = vectors[rows, k] ** 2  # (r, n): how much of E_kk each eigenvector carries
        clipped = np.maximum(lam, eps)
        residual = (clipped * w).sum(axis=1) - bound
        if not (np.abs(residual) > _NEWTON_STOP).any():  # NaN counts as not converged
            break
        omega = _divided_differences(lam, eps)
        t = t - residual / np.einsum("ri,rij,rj->r", w, omega, w)
    return lam, vectors, t, np.abs(residual) <= _NEWTON_STOP


def _newton(
    u: FloatArray, svec: SymmetricLayout, eps: float, lo: FloatArray, hi: FloatArray
) -> tuple[FloatArray, np.ndarray]:
    """Semismooth Newton on the box multipliers: ``(y, solved)`` per row, in ``svec`` entries."""
    k, d = u.shape
    basis = svec.to_matrix(np.eye(d))  # (d, n, n): the matrices of the unit svec entries
    span = float(np.max(hi - lo))  # a step beyond the box's width: a singular Jacobian
    z = np.zeros_like(u)
    out = np.empty_like(u)
    solved = np.zeros(k, dtype=bool)
    rows = np.arange(k)
    for _ in range(_NEWTON_ITERATIONS):
        values, vectors = np.linalg.eigh(svec.to_matrix(u + z))
        y = svec.to_action((vectors * np.maximum(values, eps)[:, None, :]) @ _t(vectors))
        shifted = y - z
        residual = y - np.minimum(np.maximum(shifted, lo), hi)
        done = np.abs(residual).max(axis=1) <= _NEWTON_STOP
        if done.any():
            out[rows[done]], solved[rows[done]] = y[done], True
            keep = ~done
            rows, u, z, values, vectors = rows[keep], u[keep], z[keep], values[keep], vectors[keep]
            shifted, residual = shifted[keep], residual[keep]
            if not rows.size:
                break
        inside = (shifted > lo) & (shifted < hi)
        jacobian = _clip_jacobian(values, vectors, basis, eps)
        z = z - _newton_step(jacobian, inside, residual, span)
    return out, solved


def _newton_step(
    jacobian: FloatArray, inside: np.ndarray, residual: FloatArray, span: float
) -> FloatArray:
    """The Newton step; Levenberg-Marquardt's where the plain step leaves the box's scale.

    On an active set larger than the solution's, the Jacobian can be singular (a direction
    eigenvalue clipping does not move); a ridge of the residual's size then bounds the step.
    """
    identity = np.eye(jacobian.shape[1])
    inside3 = inside[:, :, None]
    step = np.linalg.solve(
        np.where(inside3, identity, jacobian + _NEWTON_RIDGE * identity), residual[:, :, None]
    )[:, :, 0]
    wild = np.flatnonzero(~(np.abs(step).max(axis=1) <= span))
    if wild.size:
        ridge = np.abs(residual[wild]).max(axis=1)[:, None, None] * identity
        system = np.where(inside3[wild], identity, jacobian[wild] + ridge)
        step[wild] = np.linalg.solve(system, residual[wild][:, :, None])[:, :, 0]
    return step


def _clip_jacobian(
    values: FloatArray, vectors: FloatArray, basis: FloatArray, eps: float
) -> FloatArray:
    """``(k, d, d)``: the derivative of eigenvalue clipping in ``svec`` entries (symmetric PSD).

    ``dP(H) = V (Omega o V^T H V) V^T`` with ``Omega_ij`` the divided difference of
    ``max(., eps)`` at ``lambda_i, lambda_j`` (1 where both exceed ``eps``, 0 where neither
    does); entry ``(l, m)`` is ``sum_ij T_l,ij Omega_ij T_m,ij`` with ``T_l = V^T S_l V``.
    """
    omega = _divided_differences(values, eps)
    k, n = values.shape
    t = (_t(vectors)[:, None] @ basis[None] @ vectors[:, None]).reshape(k, -1, n * n)
    return (t * omega.reshape(k, 1, n * n)) @ _t(t)


def _divided_differences(values: FloatArray, eps: float) -> FloatArray:
    """``(k, n, n)`` ``Omega``: divided differences of ``max(., eps)`` at eigenvalue pairs.

    1 where both exceed ``eps``, 0 where neither does (equal eigenvalues included), the
    ratio elsewhere (there the two differ).
    """
    above = values > eps
    clipped = np.maximum(values, eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (clipped[:, :, None] - clipped[:, None, :]) / (
            values[:, :, None] - values[:, None, :]
        )
    both = above[:, :, None] & above[:, None, :]
    neither = ~above[:, :, None] & ~above[:, None, :]
    return np.where(both, 1.0, np.where(neither, 0.0, ratio))


def _t(m: FloatArray) -> FloatArray:
    return m.swapaxes(-1, -2)


def _dykstra(
    u: FloatArray,
    clipped: FloatArray,
    svec: SymmetricLayout,
    layout: SymmetricLayout,
    eps: float,
    lo: FloatArray,
    hi: FloatArray,
) -> FloatArray:
    """Dykstra's limits (matrices) of the projection onto cone ∩ box, to 1e-11 per entry.

    A row stops when its box iterate stops moving *and* meets its cone iterate. Iterates
    on matrices (the box maps entry by entry, as the layouts are isometries), each row
    until its own iterate stops; the rows still moving are kept compact (no indexing
    while none stops). ``clipped`` (the cone projections, in ``layout``) is
    the first iteration's cone step.
    """
    lo_m, hi_m = svec.to_matrix(lo[None]), svec.to_matrix(hi[None])
    y = svec.to_matrix(u)
    a = layout.symmetric(clipped)
    p, q = y - a, np.zeros_like(y)
    out = np.empty_like(y)
    rows = np.arange(y.shape[0])  # the rows still iterating
    for i in range(_DYKSTRA_ITERATIONS):
        if i:
            a = clip_eigenvalues(y + p, eps)
            p += y - a
        new = np.minimum(np.maximum(a + q, lo_m), hi_m)
        q += a - new
        # both iterates still, and on each other: the box iterate alone can rest on a
        # corner for several rounds while the corrections p, q still move it later
        change = np.maximum(np.abs(new - y), np.abs(new - a)).max(axis=(1, 2))
        moving = change > _DYKSTRA_STOP
        y = new
        if not moving.all():
            out[rows[~moving]] = y[~moving]
            rows, y, p, q = rows[moving], y[moving], p[moving], q[moving]
            if not rows.size:
                break
    out[rows] = y
    return out


def _feasible(
    y: FloatArray, svec: SymmetricLayout, layout: SymmetricLayout, eps: float, anchor: FloatArray
) -> FloatArray:
    """Actions of the limits ``y`` (svec entries), moved toward ``anchor`` to lambda_min >= eps."""
    matrices = svec.to_matrix(y)
    out = layout.to_action(matrices)
    lam = np.linalg.eigvalsh(matrices)[:, 0]
    short = lam < eps
    if short.any():  # lambda_min is concave: the segment to the anchor reaches eps in theta
        lam_anchor = float(np.linalg.eigvalsh(layout.symmetric(anchor[None]))[0, 0])
        theta = (eps - lam[short]) / np.maximum(lam_anchor - lam[short], 1e-300)
        theta = np.minimum(theta * (1 + 1e-9) + 1e-15, 1.0)
        out[short] = (1 - theta)[:, None] * out[short] + theta[:, None] * anchor
    return out
