"""The reminder domain: rules, slots, items, the planner, snooze/acknowledge state and wording.

Persistence stays in `storage/`; the clock (`bot/`) and the chat commands (`handlers/`) use this.
"""
