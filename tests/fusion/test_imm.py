"""The IMM filter against plain matrix algebra and against the motion it models."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.fusion.imm import (
    MODELS,
    combine,
    imm_params,
    imm_scratch,
    init_state,
    predict,
    transition,
    update,
)


def reference_kf(x: np.ndarray, p: np.ndarray, z: np.ndarray, r: np.ndarray, dt: float,
                 q: float) -> tuple[np.ndarray, np.ndarray]:
    """A textbook Kalman filter (constant velocity, white acceleration) in numpy."""
    f = np.eye(4)
    f[0, 2] = f[1, 3] = dt
    g = np.array([[dt**3 / 3, dt**2 / 2], [dt**2 / 2, dt]]) * q
    qm = np.zeros((4, 4))
    qm[np.ix_([0, 2], [0, 2])] = g
    qm[np.ix_([1, 3], [1, 3])] = g
    x, p = f @ x, f @ p @ f.T + qm
    h = np.zeros((2, 4))
    h[0, 0] = h[1, 1] = 1
    s = h @ p @ h.T + r
    k = p @ h.T @ np.linalg.inv(s)
    return x + k @ (z - h @ x), (np.eye(4) - k @ h) @ p


@settings(max_examples=60, deadline=None)
@given(dt=st.floats(0.5, 12.0), q=st.floats(0.01, 25.0), ze=st.floats(-2000, 2000),
       zn=st.floats(-2000, 2000), var=st.floats(100.0, 1e5), cov=st.floats(-0.9, 0.9))
def test_identical_models_are_one_kalman_filter(dt: float, q: float, ze: float, zn: float,
                                                var: float, cov: float) -> None:
    params = imm_params(turn_rate_deg_s=0.0, q_cv=q, q_ct=q)
    x, p, mu = np.zeros((MODELS, 4)), np.zeros((MODELS, 4, 4)), np.zeros(MODELS)
    init_state(x, p, mu, 10.0, -20.0, 400.0, 50.0, 300.0, 100.0, 50.0, 900.0)
    r = np.array([[var, cov * var], [cov * var, 2 * var]])
    s = imm_scratch()
    predict(x, p, mu, dt, params.omega, params.q, params.switch, s)
    update(x, p, mu, ze, zn, r[0, 0], r[0, 1], r[1, 1], s)
    want_x, want_p = reference_kf(np.array([10.0, -20.0, 100.0, 50.0]),
                                  np.diag([400.0, 300.0, 900.0, 900.0]) +
                                  np.array([[0, 50, 0, 0], [50, 0, 0, 0], [0] * 4, [0] * 4]),
                                  np.array([ze, zn]), r, dt, q)
    for j in range(MODELS):
        np.testing.assert_allclose(x[j], want_x, rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(p[j], want_p, rtol=1e-9, atol=1e-6)
    assert mu.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("omega_deg", [3.0, -3.0, 1.5, 10.0])
def test_turn_transition_follows_the_circle(omega_deg: float) -> None:
    omega, speed, dt = math.radians(omega_deg), 120.0, 7.0
    f = np.zeros((4, 4))
    transition(f, omega, dt)
    heading = 0.3  # rad from east, counter-clockwise
    x = np.array([0.0, 0.0, speed * math.cos(heading), speed * math.sin(heading)])
    got = f @ x
    radius = speed / omega  # centre to the left of the velocity for omega > 0
    cx, cy = -radius * math.sin(heading), radius * math.cos(heading)
    a = heading + omega * dt
    assert got[0] == pytest.approx(cx + radius * math.sin(a), abs=1e-6)
    assert got[1] == pytest.approx(cy - radius * math.cos(a), abs=1e-6)
    assert got[2] == pytest.approx(speed * math.cos(a))
    assert got[3] == pytest.approx(speed * math.sin(a))


def _run(turn_deg_s: float, steps: int = 30, dt: float = 4.0) -> np.ndarray:
    """Model probabilities after tracking a noise-free target turning at turn_deg_s."""
    params = imm_params()
    x, p, mu = np.zeros((MODELS, 4)), np.zeros((MODELS, 4, 4)), np.zeros(MODELS)
    speed, w = 130.0, math.radians(turn_deg_s)
    init_state(x, p, mu, 0.0, 0.0, 900.0, 0.0, 900.0, speed, 0.0, 100.0)
    s = imm_scratch()
    pos, heading = np.zeros(2), 0.0
    for _ in range(steps):
        for _ in range(40):  # integrate the truth finely
            heading += w * dt / 40
            pos += speed * dt / 40 * np.array([math.cos(heading), math.sin(heading)])
        predict(x, p, mu, dt, params.omega, params.q, params.switch, s)
        update(x, p, mu, pos[0], pos[1], 900.0, 0.0, 900.0, s)
    xc, pc = np.zeros(4), np.zeros((4, 4))
    combine(x, p, mu, xc, pc)
    assert math.hypot(xc[0] - pos[0], xc[1] - pos[1]) < 60.0
    return mu


def test_models_take_over_in_turns_and_on_straight_legs() -> None:
    assert np.argmax(_run(0.0)) == 0
    assert np.argmax(_run(3.0)) == 1  # left (counter-clockwise) turn
    assert np.argmax(_run(-3.0)) == 2
