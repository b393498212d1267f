"""The hand-written implementation of the Tasks API: task rules, queries and auth."""
