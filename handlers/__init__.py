"""The conversations and slash commands, platform-neutral (see DESIGN.md).

They speak a small message type of their own and call the store; no platform library here.
"""
