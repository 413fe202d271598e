"""Change requests: one typed change for everything that mutates (DESIGN.md rule 4).

- ``models``: ``ChangeSpec`` (what to change, exactly), ``Vote`` and ``ApprovalTicket`` (what the
  approval workflow waits on and decides with), ``RequestEvent`` (what notifications carry).
- ``execute``: ``apply_change``, the one function that applies a change to a cluster, called by the
  direct path of the API and, after an approval, by the ``apply_change`` activity.
- ``requests``: the ``change_requests`` rows: create, record progress, read back.
- ``voting``: the pure rules of a vote (four-eyes, required role, one vote per person, N-of-M,
  groups in sequence), which the workflow's update validator and handler call.
"""
