"""The store: typed models, the engine/session factory, and the one place each query is written."""
