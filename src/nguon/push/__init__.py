"""Push: what the hub sends endpoints at once, over server-sent events and vendor webhooks."""
