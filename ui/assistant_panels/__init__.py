"""Parts of the Assistant page (``ui/screens/assistant.py``): ``context.py`` (what a conversation
is about, and the "Ask about this" button other pages show), ``cards.py`` (an answer's tool calls,
findings, proposals and notice), ``chat.py`` (the conversation and a question streamed into it)
and ``describe.py`` ("Describe what you need": a sentence becomes a configuration, created only
through the normal create calls).

The assistant reads with the person's own rights and never changes anything: a change it proposes
is a request waiting for a person's approval, and the cards link to it."""
