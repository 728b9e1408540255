"""The benefit catalogue: what can be paid, under which law, and which benefits exclude each other."""
