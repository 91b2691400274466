"""A background worker: polls a queue forever (no port, no load balancer)."""

import os
import time


def main() -> None:
    queue = os.environ.get("QUEUE_NAME", "jobs")
    while True:
        print(f"worker: polling {queue}", flush=True)
        time.sleep(int(os.environ.get("POLL_SECONDS", "20")))


if __name__ == "__main__":
    main()
