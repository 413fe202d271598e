"""One router per resource of the API (base ``/api/v1``)."""
