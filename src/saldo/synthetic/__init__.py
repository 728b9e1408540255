"""The synthetic country: a realistic, deterministic Swedish population, its payers and a year of
payments, generated with vectorised NumPy/Arrow so it scales from a thousand to ten million persons.

Its files are the documented interchange formats (docs/formats/), so the demo, the tests and the
benchmarks ingest them through exactly the path a real payer uses."""
