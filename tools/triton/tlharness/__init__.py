"""tuneloop's Triton verification harness (see ../harness.py). Python 3.9+, torch; triton optional."""

HARNESS_VERSION = "2"
