"""The Textual console: app, screens and widgets."""
