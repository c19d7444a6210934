"""A long-running process: a heartbeat every second in <PULSE_DIR>/<name>.json (name: argv[1])."""

import signal
import sys
import time

from pulse_app import heartbeat


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    name = sys.argv[1]
    count = 0
    while True:
        count += 1
        heartbeat(name, count)
        time.sleep(1)


if __name__ == "__main__":
    main()
