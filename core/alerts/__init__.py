"""Alerts: rules over the collected metrics, their evaluation and their events.

- ``rules``: the rule model (kinds, what each needs, what its threshold means, durations); pure.
- ``measure``: the pure evaluation of one rule over a series of samples ("over N for D": every
  sample of the last D over N, and the samples cover D), tested as tables.
- ``state``: a rule's state machine (ok / firing, cooldown, snooze, acknowledgement); pure.
- ``events``: an alert event (its id from rule id + transition number), its message, links, the
  Slack-compatible webhook body and the in-app notification; pure.
- ``queries``: the ClickHouse reads behind each kind (raw ``stream_metrics``,
  ``consumer_metrics``, ``cluster_metrics``; ``stream_metrics_hourly`` for ``rate_anomaly``).
- ``evaluation``: one evaluation pass over the enabled rules, in the API process (the only one
  that may open chdb): measure, step the state in PostgreSQL, keep the pending events.
- ``stored``: rules and their state rows (``alert_rules``, ``alert_rule_states``) to and from the
  pure model; ``rows``: events as ``alert_events`` rows; ``schedule``: the Temporal schedule
  ``jsc-alerts-evaluate`` (every ``JSC_ALERT_INTERVAL_S``).

Who runs what: ``workflows.alerts.AlertEvaluationWorkflow`` (the worker) calls ``alerts_evaluate``
on ``<task queue>-analytics`` (``api.analytics_worker``, in the API process), then
``alert_publish``, ``deliver_alert_webhook`` and ``alert_delivered`` (``activities.alerts``, the
worker). The routes are ``api.routers.alerts``.
"""
