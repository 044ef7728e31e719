"""An interacting multiple model (IMM) filter for radar tracks, as numba kernels.

Three linear models share the state ``[e, n, ve, vn]`` (metres and m/s in the track's
tangent plane, :mod:`skyshare.fusion.geo`): constant velocity (CV) with a small white
acceleration noise, and coordinated turns (CT) at a known rate to the left and to the
right (a standard-rate turn, 3 deg/s, by default) with their own noise.  A known-rate
turn keeps every model linear: the filter is exact Kalman algebra, with no Jacobian,
and Stone Soup's ``KnownTurnRate`` is the same model, so the benchmark compares like
with like.

One cycle for a measurement ``z`` (position, 2-D, full covariance ``R``) at ``dt``
after the track's last update (Blom and Bar-Shalom's IMM):

1. mixing: ``c_j = sum_i pi_ij mu_i``; each model starts from the mixture of the
   models' states weighted by ``pi_ij mu_i / c_j``;
2. prediction of each model over ``dt``;
3. update of each model with ``z``; its likelihood ``N(nu; 0, S_j)``;
4. model probabilities ``mu_j ~ L_j c_j``.

Per track: ``x (M, 4)``, ``P (M, 4, 4)``, ``mu (M)``.  The output estimate is the
moment-matched mixture (:func:`combine`).  Kernels write into caller-owned scratch
arrays and allocate nothing.
"""

from __future__ import annotations

import math
from typing import Final, NamedTuple

import numba as nb
import numpy as np
import numpy.typing as npt

F8 = npt.NDArray[np.float64]
MODELS: Final = 3  # CV, CT left, CT right
STATE: Final = 4
_TWO_PI_LOG: Final = math.log(2.0 * math.pi)
MIN_PROBABILITY: Final = 1e-6  # keeps a model able to take over again


class ImmParams(NamedTuple):
    """The models: turn rates (rad/s, + = left), noise densities and switching."""

    omega: F8  # (M,)
    q: F8  # (M,) white acceleration density, m^2/s^3 (per axis)
    switch: F8  # (M, M) pi_ij: probability of going from model i to model j per update


def imm_params(turn_rate_deg_s: float = 3.0, q_cv: float = 1.0, q_ct: float = 4.0,
               stay: float = 0.95) -> ImmParams:
    """Models CV + CT(+w) + CT(-w); ``stay``: probability a model stays per update."""
    w = math.radians(turn_rate_deg_s)
    switch = np.full((MODELS, MODELS), (1.0 - stay) / (MODELS - 1))
    np.fill_diagonal(switch, stay)
    return ImmParams(np.array([0.0, w, -w]), np.array([q_cv, q_ct, q_ct]), switch)


class ImmScratch(NamedTuple):
    """Work arrays of one kernel call (allocated once per tracker)."""

    x0: F8  # (M, 4) mixed states
    p0: F8  # (M, 4, 4)
    xp: F8  # (M, 4) predicted
    pp: F8  # (M, 4, 4)
    c: F8  # (M,) predicted model probabilities
    f: F8  # (4, 4) transition
    tmp: F8  # (4, 4)
    xc: F8  # (4,) combined
    pc: F8  # (4, 4)
    logl: F8  # (M,)


def imm_scratch() -> ImmScratch:
    m = MODELS
    return ImmScratch(np.zeros((m, 4)), np.zeros((m, 4, 4)), np.zeros((m, 4)),
                      np.zeros((m, 4, 4)), np.zeros(m), np.zeros((4, 4)), np.zeros((4, 4)),
                      np.zeros(4), np.zeros((4, 4)), np.zeros(m))


@nb.njit(cache=True, nogil=True)
def transition(f: F8, omega: float, dt: float) -> None:
    """``f`` := the transition over ``dt`` of a turn at ``omega`` (0: straight)."""
    f[:, :] = 0.0
    f[0, 0] = f[1, 1] = 1.0
    wt = omega * dt
    if abs(wt) < 1e-9:
        f[0, 2] = f[1, 3] = dt
        f[2, 2] = f[3, 3] = 1.0
        return
    s, c = math.sin(wt), math.cos(wt)
    f[0, 2], f[0, 3] = s / omega, -(1.0 - c) / omega
    f[1, 2], f[1, 3] = (1.0 - c) / omega, s / omega
    f[2, 2], f[2, 3] = c, -s
    f[3, 2], f[3, 3] = s, c


@nb.njit(cache=True, nogil=True)
def predict_model(x: F8, p: F8, xo: F8, po: F8, f: F8, tmp: F8, omega: float, q: float,
                  dt: float) -> None:
    """One model over ``dt``: ``xo = F x``, ``po = F P F' + Q`` (white acceleration)."""
    transition(f, omega, dt)
    for i in range(4):
        s = 0.0
        for k in range(4):
            s += f[i, k] * x[k]
        xo[i] = s
    for i in range(4):  # tmp = F P
        for j in range(4):
            s = 0.0
            for k in range(4):
                s += f[i, k] * p[k, j]
            tmp[i, j] = s
    for i in range(4):  # po = tmp F'
        for j in range(i, 4):
            s = 0.0
            for k in range(4):
                s += tmp[i, k] * f[j, k]
            po[i, j] = po[j, i] = s
    a = abs(dt)
    q3, q2, q1 = q * a * a * a / 3.0, q * a * a / 2.0, q * a
    for ax in range(2):
        po[ax, ax] += q3
        po[ax, ax + 2] += q2
        po[ax + 2, ax] += q2
        po[ax + 2, ax + 2] += q1


@nb.njit(cache=True, nogil=True)
def predict(x: F8, p: F8, mu: F8, dt: float, omega: F8, q: F8, switch: F8,
            s: ImmScratch) -> None:
    """Mixing and per-model prediction over ``dt``: ``s.xp``, ``s.pp``, ``s.c``."""
    m = len(mu)
    for j in range(m):
        c = 0.0
        for i in range(m):
            c += switch[i, j] * mu[i]
        s.c[j] = c
    for j in range(m):
        s.x0[j, :] = 0.0
        for i in range(m):
            w = switch[i, j] * mu[i] / s.c[j]
            for a in range(4):
                s.x0[j, a] += w * x[i, a]
        s.p0[j, :, :] = 0.0
        for i in range(m):
            w = switch[i, j] * mu[i] / s.c[j]
            for a in range(4):
                da = x[i, a] - s.x0[j, a]
                for b in range(4):
                    s.p0[j, a, b] += w * (p[i, a, b] + da * (x[i, b] - s.x0[j, b]))
    for j in range(m):
        predict_model(s.x0[j], s.p0[j], s.xp[j], s.pp[j], s.f, s.tmp, omega[j], q[j], dt)


@nb.njit(cache=True, nogil=True)
def combine(x: F8, p: F8, w: F8, xo: F8, po: F8) -> None:
    """The moment-matched mixture of the models' ``x``, ``p`` with weights ``w``."""
    xo[:] = 0.0
    for j in range(len(w)):
        for a in range(4):
            xo[a] += w[j] * x[j, a]
    po[:, :] = 0.0
    for j in range(len(w)):
        for a in range(4):
            da = x[j, a] - xo[a]
            for b in range(4):
                po[a, b] += w[j] * (p[j, a, b] + da * (x[j, b] - xo[b]))


@nb.njit(cache=True, nogil=True)
def distance2(xc: F8, pc: F8, ze: float, zn: float, r_ee: float, r_en: float,
              r_nn: float) -> tuple[float, float]:
    """(Mahalanobis distance squared, log det S) of a position against an estimate."""
    s00, s01, s11 = pc[0, 0] + r_ee, pc[0, 1] + r_en, pc[1, 1] + r_nn
    det = s00 * s11 - s01 * s01
    if not det > 0.0:
        return math.inf, 0.0
    ve, vn = ze - xc[0], zn - xc[1]
    return (s11 * ve * ve - 2.0 * s01 * ve * vn + s00 * vn * vn) / det, math.log(det)


@nb.njit(cache=True, nogil=True)
def update_model(x: F8, p: F8, ze: float, zn: float, r_ee: float, r_en: float,
                 r_nn: float) -> float:
    """Kalman update of one model with a position; returns its log-likelihood."""
    s00, s01, s11 = p[0, 0] + r_ee, p[0, 1] + r_en, p[1, 1] + r_nn
    det = s00 * s11 - s01 * s01
    if not det > 0.0:
        return -math.inf
    i00, i01, i11 = s11 / det, -s01 / det, s00 / det
    ve, vn = ze - x[0], zn - x[1]
    d2 = ve * (i00 * ve + i01 * vn) + vn * (i01 * ve + i11 * vn)
    # K = P H' S^-1 with H = [I 0]; P -= K H P, using the rows 0 and 1 of P before it
    a0, a1 = i00 * ve + i01 * vn, i01 * ve + i11 * vn
    p00, p01, p02, p03 = p[0, 0], p[0, 1], p[0, 2], p[0, 3]
    p11, p12, p13 = p[1, 1], p[1, 2], p[1, 3]
    row0 = (p00, p01, p02, p03)
    row1 = (p01, p11, p12, p13)
    for a in range(4):
        x[a] += row0[a] * a0 + row1[a] * a1
    for a in range(4):
        k0 = row0[a] * i00 + row1[a] * i01
        k1 = row0[a] * i01 + row1[a] * i11
        for b in range(a, 4):
            v = p[a, b] - k0 * row0[b] - k1 * row1[b]
            p[a, b] = v
            p[b, a] = v
    return float(-0.5 * (d2 + math.log(det)) - _TWO_PI_LOG)


@nb.njit(cache=True, nogil=True)
def update(x: F8, p: F8, mu: F8, ze: float, zn: float, r_ee: float, r_en: float,
           r_nn: float, s: ImmScratch) -> None:
    """Update every predicted model (``s.xp``, ``s.pp``) with a position and write the
    posterior into ``x``, ``p``, ``mu``."""
    m = len(mu)
    best = -math.inf
    logl = s.logl
    for j in range(m):
        x[j, :] = s.xp[j]
        p[j, :, :] = s.pp[j]
        logl[j] = update_model(x[j], p[j], ze, zn, r_ee, r_en, r_nn)
        best = max(best, logl[j])
    total = 0.0
    for j in range(m):
        mu[j] = s.c[j] * math.exp(logl[j] - best) if logl[j] > -math.inf else 0.0
        total += mu[j]
    if not total > 0.0:
        mu[:] = s.c
        total = 1.0
    norm = 0.0
    for j in range(m):
        mu[j] = max(mu[j] / total, MIN_PROBABILITY)
        norm += mu[j]
    for j in range(m):
        mu[j] /= norm


@nb.njit(cache=True, nogil=True)
def init_state(x: F8, p: F8, mu: F8, ze: float, zn: float, r_ee: float, r_en: float,
               r_nn: float, ve: float, vn: float, v_var: float) -> None:
    """Every model at a measured position with a velocity prior (``v_var`` per axis)."""
    m = len(mu)
    for j in range(m):
        x[j, :] = 0.0
        x[j, 0], x[j, 1], x[j, 2], x[j, 3] = ze, zn, ve, vn
        p[j, :, :] = 0.0
        p[j, 0, 0], p[j, 0, 1], p[j, 1, 0], p[j, 1, 1] = r_ee, r_en, r_en, r_nn
        p[j, 2, 2] = p[j, 3, 3] = v_var
        mu[j] = 1.0 / m
