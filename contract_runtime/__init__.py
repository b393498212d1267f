"""What every generated layer needs at run time, whatever the spec: hand-written, linted, typed and tested.

Generated code imports it; it never imports `impl/`.
"""
