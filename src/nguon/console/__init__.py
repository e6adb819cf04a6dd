"""The web console: the hub's pages for people, served under /console/."""
