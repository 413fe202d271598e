"""The Streamlit UI of JetStream Console: an HTTP client of the API and nothing more.

- ``app.py``: entry point (``streamlit run ui/app.py``); builds the navigation from the login state.
- ``screens/``: one script per page, run by ``st.navigation``: login, overview, clusters, streams,
  stream (one stream's detail: overview, messages, consumers, configuration), operations (live
  progress, pause / resume / cancel, the replay form), kv, objects, audit, and the administration
  pages: users (invitations, roles of members), teams (namespaces, members), roles (the permission
  matrix, custom roles), api_keys (a secret shown once, rotation, revocation); approvals (the
  queue with diff, policy, risk and votes; my requests; all), team_portal (usage bars against
  quotas, the team's resources, the request-quota form, quota history), policies (the approval
  policy editor, versioned), notifications, webhooks (create with the secret shown once, test,
  rotate the secret, delete), replication (the topology picture and the
  Replication Status table, DR pairs with their risk, drills and failover controls, the mirror
  wizard, the DR pair form), organization (its name and request limit: admins change them,
  everyone reads them; the person's memberships). The sidebar of every page links to the API's
  documentation (``JSC_BROWSER_API_URL``, default ``JSC_API_URL``, then ``/docs``).
  Not named ``pages/``: next to the entry point that name switches Streamlit to its legacy
  multipage mode, which runs a page file directly, without ``app.py`` and its login gate.
- ``stream_tabs/``: the Messages and Consumers tabs of the stream screen, large enough for a
  module each; ``replication_tabs/`` likewise for the replication screen; ``cluster_panels/``
  the chosen cluster's server information and edit form on the clusters screen.
- ``operation_view.py``: how mirror and failover operations read (one line, their steps, their
  result), shared by the operations and replication screens.
- ``client/``: the small typed API client (httpx), with typed errors carrying the API's message:
  the HTTP core in ``base.py``, one module of calls and types per area; ``ui.client`` re-exports
  every public name.
- ``session.py``: the per-browser-session glue (tokens in ``st.session_state``, errors as
  sentences).
- ``forms/``: pure validation of what a person types, before anything is sent, one module per
  area; ``ui.forms`` re-exports every public name.
- ``widgets.py``: what several pages draw alike: the cluster picker, pagers, confirmations.
- ``approval_widgets.py`` / ``approval_text.py``: the cards and sentences of requests, policies
  and quotas (drawing, and the plain text behind it).
- ``fmt.py``: numbers, sizes, durations, times and statuses for people.

The UI never touches a database or NATS (DESIGN.md section 2, rule 5); the API URL comes from
``JSC_API_URL`` (default ``http://127.0.0.1:8000``).
"""
