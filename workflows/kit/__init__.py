"""What every workflow kind shares: typed command payloads, refusals, dispatch and its checks.

A kind is one package that registers its commands (name → payload model and rule) here; the
parts below never know which kind they serve.
"""
