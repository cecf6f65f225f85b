"""Integrations with training libraries, one module per library, each importing its library only when used."""
