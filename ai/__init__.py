"""The assistant (DESIGN.md §3): Claude reads live data through read-only tools and proposes
changes that go through the same approval path as a person's. It never changes a system itself.

- ``model``: the Anthropic client (the SDK's own ``ANTHROPIC_API_KEY`` / ``ANTHROPIC_BASE_URL``),
  with its failures named (no key, unreachable, refused) so callers can fall back.
- ``masking`` and ``untrusted``: what is read from a cluster reaches the model masked (secrets,
  tokens, card numbers, e-mail addresses) and wrapped as data, never as instructions.
- ``analyzers`` and ``diagnose``: deterministic findings with their evidence (K8sGPT-style): the
  model explains them; without a model the chat answers with them (``findings_text``). The
  diagnosis reads through the API with ``reading`` (bounded, a refusal is a line, not an error).
- ``tools``: the tool definitions; every tool calls the console's own API as the caller, so the
  assistant sees exactly what the person sees.
- ``guard``: when a proposal may be filed at all (the person asked for a change this turn).
- ``loop``: one answer of the chat: model turns, tool rounds, events for the client.
- ``configure``: "describe what you need" -> a validated stream and consumer configuration.
- ``risk``: the short written risk summary of an approval request.
"""
