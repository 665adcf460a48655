"""The operation table and the per-request API every transport calls."""
