"""Sphinx extension for an offline handbook: keep the live-code (Thebe) loader out of the pages.

Jupyter Book 1 always loads sphinx-thebe, whose configuration script points at a CDN and, in
this toolchain, is injected twice (a JavaScript error on every page). The handbook has no live
code cells, so its two document-level handlers are removed before any document is read.
"""

from __future__ import annotations


def _drop_thebe_handlers(app, config) -> None:
    for event in ("env-before-read-docs", "doctree-resolved"):
        listeners = app.events.listeners.get(event, [])
        app.events.listeners[event] = [
            listener for listener in listeners
            if getattr(listener.handler, "__module__", "") != "sphinx_thebe"
        ]


def setup(app):
    app.connect("config-inited", _drop_thebe_handlers, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
