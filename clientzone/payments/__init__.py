"""Online payment providers behind one small interface."""
