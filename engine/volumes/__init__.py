"""Named and anonymous volumes (local driver)."""
