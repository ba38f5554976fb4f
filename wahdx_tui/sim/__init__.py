"""A simulated Wahdx Connection API on loopback HTTP, for the demo and the tests."""

from wahdx_tui.sim.faults import Faults
from wahdx_tui.sim.server import SimConfig, SimServer

__all__ = ["Faults", "SimConfig", "SimServer"]
