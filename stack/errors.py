"""The one exception the launcher raises: its message is meant for a person, as is."""


class StackError(RuntimeError):
    """The stack could not start (or a service could not be handled); the message says why."""
