"""A fake of Ozon, Wildberries and Yandex Market speaking their official contracts.

Development tool only: it serves the demo, the tests, fault injection and the benchmarks.
See integrations/sandbox/app.py for the entry points.
"""
