"""``python -m emulator [--host H] [--port P] [--limits]``: run the emulator alone."""

from __future__ import annotations

import argparse

from emulator.limits import RateLimits
from emulator.server import run_emulator


def main() -> None:
    """Parse arguments and serve."""
    parser = argparse.ArgumentParser(description="Telegram Bot API emulator with a web chat")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--limits", action="store_true", help="enforce Telegram flood limits")
    args = parser.parse_args()
    limits = RateLimits() if args.limits else RateLimits.off()
    run_emulator(args.host, args.port, limits)


if __name__ == "__main__":
    main()
