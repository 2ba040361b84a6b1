"""Insight (SPEC §9, issue 14): control limits, supplier attribution, the evidence pack and its pictures."""
