"""Tests of the Streamlit UI: AppTest runs the real pages against the real API of the `stack`."""
