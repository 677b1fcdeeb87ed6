"""Run the simulated pool standalone, to point a console at it by hand.

``python -m tests.support.xapi_server --port 8080 [--members] [--delay 2]``

``--loopback`` lays the pool out as a real one: every host on its own loopback address
(127.0.0.11, .12, .13) on the same port, its ``address`` field saying so, so that a
member's HOST_IS_SLAVE and each host's ``/rrd_updates`` are reached as in a real pool
(``xentui -c xapi+http://root@127.0.0.11:8080``).
"""

from __future__ import annotations

import argparse
import signal
import threading

from .server import XapiServer


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted, printing where and how to log in."""
    parser = argparse.ArgumentParser(prog="python -m tests.support.xapi_server")
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: an ephemeral port")
    parser.add_argument("--seed", type=int, default=0, help="seed of the rrd values")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per VM operation")
    parser.add_argument("--password", default="xenroot", help="password of root")
    parser.add_argument(
        "--members", action="store_true", help="also serve the other hosts (as slaves)"
    )
    parser.add_argument(
        "--loopback", action="store_true",
        help="every host on its own 127.0.0.1x address, same port (implies --members)",
    )
    args = parser.parse_args(argv)
    address = "127.0.0.11" if args.loopback else args.address
    server = XapiServer(
        address=address, port=args.port, seed=args.seed, users={"root": args.password}
    )
    server.set_operation_delay(args.delay)
    server.start()
    if args.loopback:
        db = server.db
        hosts = sorted(db.tables["host"], key=lambda ref: db.get("host", ref)["name_label"])
        for n, host in enumerate(hosts):
            server.db.update("host", host, address=f"127.0.0.{11 + n}")
            if host != server.local_host:
                member = XapiServer(server.db, host=host, address=f"127.0.0.{11 + n}",
                                    port=server.port)
                server.members.append(member.start())
    elif args.members:
        for host in list(server.db.tables["host"]):
            if host != server.local_host:
                server.member(host)
    for address, url in server.urls_by_address().items():
        print(f"{address:>12} -> {url}")
    print(f"XAPI simulator at {server.url} (user root, password {args.password}); Ctrl-C ends")
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
