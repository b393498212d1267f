"""Small plumbing shared by the packages: canonical base64url, a component's background task, the startup heap."""
