"""Alert tests: the pure rule model, measurements and state machine as tables; rules, events,
acknowledging and snoozing through the API with two organizations and each role; each kind firing
and resolving from a situation created on the real servers, delivered to a local webhook receiver
and the in-app inbox; the evaluation workflow on the real Temporal and replayed from a committed
history."""
