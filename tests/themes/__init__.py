"""attune.themes: the worker process and the quality of its grouping."""
