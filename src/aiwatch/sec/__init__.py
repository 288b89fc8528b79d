"""SEC EDGAR payloads: one module per payload type, each turning bytes into a Polars frame."""
