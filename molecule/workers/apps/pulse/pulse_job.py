"""A scheduled job: one heartbeat in <PULSE_DIR>/<argv[1]>.json per run, counting the runs."""

import json
import os
import sys

from pulse_app import heartbeat


def main():
    name = sys.argv[1]
    try:
        with open(os.path.join(os.environ["PULSE_DIR"], f"{name}.json"), encoding="utf-8") as f:
            count = json.load(f)["n"]
    except (OSError, ValueError, KeyError):
        count = 0
    heartbeat(name, count + 1)


if __name__ == "__main__":
    main()
