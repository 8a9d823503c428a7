"""``equityflow demo``: two share transfers under a Right of First Refusal, then an option from
its grant through an exercise and a termination to the expiry of what was left, on simulated
time.

Everything goes the production path: commands are published on the broker, the engine applies
them, the deadlines service fires timers when the simulated clock passes them. The demo prints a
stock administrator's timeline (``timeline``) with each deadline's derivation, verifies the hash
chain of each company's histories, and removes everything it created (``run``).
"""

from services.demo.run import run_demo

__all__ = ["run_demo"]
