"""The HTTP edge: request limits, protocol bounds, problem documents and handlers, security headers, the contract."""
