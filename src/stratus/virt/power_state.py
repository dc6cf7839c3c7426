"""Power states a driver reports for an instance (the integers Nova stores and the API shows)."""

NOSTATE = 0
RUNNING = 1
PAUSED = 3
SHUTDOWN = 4
CRASHED = 6
SUSPENDED = 7

NAMES = {NOSTATE: "pending", RUNNING: "running", PAUSED: "paused", SHUTDOWN: "shutdown",
         CRASHED: "crashed", SUSPENDED: "suspended"}
