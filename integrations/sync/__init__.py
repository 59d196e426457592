"""Inbound (pull) sync: per-(account, stream) runs with a lease, a heartbeat and a saved cursor.

engine.run_stream is the one entry point (tasks, the `sync` command and tests call it);
streams.py wires each stream's adapter reads to the owning app's bulk ingest; leases.py is the lock.
"""
