"""Planning: recurring posts (series) that keep objectives covered by themselves."""
