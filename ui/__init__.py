"""The Streamlit UI of JetStream Console: an HTTP client of the API and nothing more.

- ``app.py``: entry point (``streamlit run ui/app.py``); builds the navigation from the login state.
- ``screens/``: one script per page, run by ``st.navigation``: login, overview, clusters, streams,
  stream (one stream's detail: overview, messages, consumers, configuration), operations (live
  progress, pause / resume / cancel, the replay form), kv, objects, audit.
  Not named ``pages/``: next to the entry point that name switches Streamlit to its legacy
  multipage mode, which runs a page file directly, without ``app.py`` and its login gate.
- ``client.py``: the small typed API client (httpx), with typed errors carrying the API's message.
- ``session.py``: the per-browser-session glue (tokens in ``st.session_state``, errors as sentences).
- ``forms.py``: pure validation of what a person types, before anything is sent.
- ``widgets.py``: what several pages draw alike: the cluster picker, pagers, confirmations.
- ``fmt.py``: numbers, sizes, durations, times and statuses for people.

The UI never touches a database or NATS (DESIGN.md section 2, rule 5); the API URL comes from
``JSC_API_URL`` (default ``http://127.0.0.1:8000``).
"""
