"""Named reference scenarios."""
