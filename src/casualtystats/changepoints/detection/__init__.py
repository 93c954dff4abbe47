"""Search methods: exact PELT (offline) and Bayesian online detection."""
