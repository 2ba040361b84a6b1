"""The pure domain core: quantity math, usage, allocation, planning, variances (stdlib only)."""
