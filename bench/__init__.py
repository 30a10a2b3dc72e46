"""Benchmarks of kintorm against kinto-http: ``python -m bench`` (``make bench``)."""
