"""One list request: its query as the rules see it, its filters as SQL conditions, its sealed cursors."""
