"""Tabs of the stream detail screen (``ui/screens/stream.py``) that are large enough for a
module."""
