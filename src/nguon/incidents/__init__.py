"""Incidents: power, technical and cyber events the department handles, opened by people or
by the hub itself, each with its timeline, and pushed to the department's system."""
