"""Deterministic analyzers (K8sGPT-style): pure functions from the JSON the console's API answers
(JetStream's own stream and consumer infos, the lag history of ``/analytics``, the replication
map's edges, a team's quota report) to ``Finding``s with their evidence and a suggestion. No I/O:
``ai.diagnose`` reads through the API and calls them; the tests are tables.

- ``thresholds``: every limit an analyzer applies, with its reason, in one place.
- ``consumers``: lag growing, stalled, redelivery storm, ack pending near its maximum, a filter
  that matches nothing (``subjects``: NATS wildcard matching, ``*`` and ``>``).
- ``streams``: storage near a limit, an idle stream.
- ``mirrors``: a mirror (or source) behind, or broken.
- ``quotas``: a team's usage near its quota.
"""

from ai.analyzers.consumers import analyze_consumer
from ai.analyzers.mirrors import analyze_links
from ai.analyzers.quotas import analyze_quotas
from ai.analyzers.streams import analyze_stream
from ai.analyzers.thresholds import Thresholds

__all__ = ["Thresholds", "analyze_consumer", "analyze_links", "analyze_quotas", "analyze_stream"]
