"""The store: tables and the operations on them (wish life, matching, points, reminders).

Nothing here imports a chat platform; callers own the session and its transaction.
"""
