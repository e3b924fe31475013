"""Output: a raw record typed by its schema, RECORD and STATE lines written, progress said."""
