"""Market makers: harnesses that drive quoting strategies.

* ``lob.mm.model_harness`` -- the model market of Avellaneda & Stoikov
  (2008): binomial mid-price, Poisson fills with intensity
  ``A exp(-k delta)``; no order book.  Drives any object with
  ``quotes(t, mid, inventory) -> (bid, ask)`` (the ``strategies`` package).
"""
