"""The ``posloyalty`` command line: the product's scripting interface."""
