"""Run the fake marketplaces as a real HTTP server for the demo and manual testing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from integrations.sandbox.app import SandboxApp
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.world import MARKETPLACES, SandboxConfig, SandboxWorld


class Command(BaseCommand):
    help = "Serve the sandbox marketplaces (Ozon, Wildberries, Yandex Market) on loopback."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--products", type=int, default=60)
        parser.add_argument("--orders", type=int, default=300, help="Orders per marketplace at start.")
        parser.add_argument("--limits", action="store_true", help="Enforce the platforms' rate limits.")
        parser.add_argument(
            "--real-time", type=float, default=0, metavar="TICK",
            help="Move the world's clock with the wall clock every TICK seconds (orders appear as they are made).",
        )
        parser.add_argument(
            "--start",
            help="World clock start (ISO date-time, UTC). Default: now, so the demo data is recent.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["start"]:
            start = datetime.fromisoformat(options["start"]).replace(tzinfo=UTC)
        else:
            start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        world = SandboxWorld(
            SandboxConfig(
                seed=options["seed"],
                products=options["products"],
                orders=options["orders"],
                start=start,
                limits_enabled=options["limits"],
            )
        )
        if options["real_time"] > 0:
            world.follow_wall_clock(options["real_time"])
        server = SandboxServer(SandboxApp(world), host=options["host"], port=options["port"])
        self.stdout.write(f"Sandbox marketplaces at {server.url}:")
        for name in MARKETPLACES:
            self.stdout.write(f"  {name}: {server.base_url(name)}")
        self.stdout.write(f"  control: {server.url}/_control/state (POST /_control/advance, /_control/faults)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            server.stop()
