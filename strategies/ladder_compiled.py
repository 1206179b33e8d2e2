"""The ladder market maker as a user-compiled strategy (plug-in path 2): the
same decisions as the built-in compiled agent, reached through the plug-in
loader by import path (``strategies.ladder_compiled:decide``)."""
from __future__ import annotations

from numba import njit

from lob.sim.agents import decide_ladder_mm


@njit(cache=True, _nrt=False)
def decide(W, a, now):
    """Agent ``a`` wakes at ``now`` (ns): cancel and requote; next wake time."""
    return decide_ladder_mm(W, a, now)
