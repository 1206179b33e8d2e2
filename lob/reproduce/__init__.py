"""Reproductions of published results (``lob reproduce NAME``).

* ``as2008`` -- Avellaneda & Stoikov (2008), "High-frequency trading in a
  limit order book", sec. 3.3 tables (``lob.reproduce.as2008``).
"""
