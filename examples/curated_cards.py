"""Seed 000's curated-card flow with the Sextant client: a read-only key, the curated list
(no SQL, result columns with types), and one card run with its parameters.

    python examples/curated_cards.py --url http://127.0.0.1:8000 \
        --api-key "$(cat sextant-demo/agent-api-key)" [--card "Revenue by State" --param state=CA]
"""

from __future__ import annotations

import argparse
import json

from sextant.client import AgentClient, QueryFailed


def list_curated_cards(client: AgentClient) -> list[dict[str, object]]:
    """What an LLM is given: id, name, description, collection, result columns."""
    return [
        {
            "id": card.id,
            "name": card.name,
            "description": card.description,
            "collection": card.collection,
            "result_columns": card.result_columns,
            "parameters": [p.slug for p in card.parameters],
        }
        for card in client.curated_cards()
    ]


def run_card(client: AgentClient, name: str, parameters: dict[str, str]) -> list[dict[str, object]]:
    """Run a curated card by name, capped to 200 rows as a model would get them."""
    by_name = {card.name: card.id for card in client.curated_cards()}
    result = client.run_card(by_name[name], {k: [v] for k, v in parameters.items()})
    return result.records()[:200]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--card", default="Revenue by State")
    parser.add_argument("--param", action="append", default=[], help="slug=value")
    args = parser.parse_args()
    parameters = dict(p.split("=", 1) for p in args.param)
    with AgentClient(args.url, api_key=args.api_key) as client:
        print(json.dumps(list_curated_cards(client), indent=2))
        try:
            rows = run_card(client, args.card, parameters)
        except QueryFailed as exc:
            raise SystemExit(f"the card did not run: {exc.message}") from exc
        print(json.dumps({"card": args.card, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
