"""The scheduler: Placement's allocation candidates, filtered and weighed, then claimed."""
