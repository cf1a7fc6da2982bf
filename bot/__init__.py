"""The runtime of Small Wishes: settings, start-up, adapters and the command line.

Everything platform-specific lives here; models/ and handlers/ know nothing of it.
"""
