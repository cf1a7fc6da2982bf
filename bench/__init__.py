"""The benchmark suite: the real `wishbot run` and a bare PTB echo bot on the fake Bot API.

`python -m bench` (make bench) measures; `python -m bench --quick` (make bench-quick) checks.
"""
