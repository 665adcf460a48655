"""Seed 001's Slack bot on the Sextant client: a message in, an answer out, as the Slack user
who asked (a fresh JWT per request carries their email, so their permissions and sandboxes
apply). The Slack transport is one function, ``post_to_slack``; replace it with
``slack_sdk.WebClient(token).chat_postMessage(channel=…, text=…)``.

    python examples/slack_bot.py --url http://127.0.0.1:8000 \
        --secret "$(cat sextant-demo/jwt-secret)" \
        --email ca-manager@example.com "What is our revenue by month?"
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from sextant.client import AgentClient, ApiError

Post = Callable[[str, str], None]


def post_to_slack(channel: str, text: str) -> None:
    """The Slack transport, stubbed: print what would be posted."""
    print(f"[{channel}] {text}")


def answer(client: AgentClient, message: str) -> str:
    """Find the best metric for the message and state its value, with its source."""
    found = client.search(term_queries=[message], semantic_queries=[message], limit=10)
    metrics = [item for item in found.data if item.type == "metric"]
    if not metrics:
        return "I found no metric for that; try naming what you want to count or sum."
    metric = client.metric(metrics[0].id)
    body: dict[str, object] = {"metric_id": metric.id}
    by_month = "month" in message.lower() and metric.default_time_dimension_field_id
    if by_month:
        body["group_by"] = [
            {"field_id": metric.default_time_dimension_field_id, "field_granularity": "month"}
        ]
    result = client.query(body)
    if by_month:
        latest = result.rows[-3:]
        lines = [f"{str(month)[:7]}: {value:,.2f}" for month, value in latest]
        return f"{metric.name}, last months (metric {metric.id}):\n" + "\n".join(lines)
    [[value]] = result.rows
    return f"{metric.name}: {value:,.2f} (metric {metric.id})"


def handle_slack_message(
    message: str, user_email: str, client_for: Callable[[str], AgentClient], post: Post
) -> None:
    """Answer one message as the user who wrote it."""
    with client_for(user_email) as client:
        try:
            text = answer(client, message)
        except ApiError as exc:
            text = f"Sorry, I could not answer: {exc.message}"
    post("#data", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("message")
    args = parser.parse_args()

    def client_for(email: str) -> AgentClient:
        return AgentClient(args.url, jwt_secret=args.secret, email=email)

    handle_slack_message(args.message, args.email, client_for, post_to_slack)


if __name__ == "__main__":
    main()
