"""``kehu token create | revoke | list``: personal access tokens of the JSON API."""

from __future__ import annotations

import click

from core.api.tokens import MAX_EXPIRY_DAYS, create_token, display_prefix, get_token, list_tokens, revoke_token
from core.cli.environment import CliEnvironment
from core.cli.output import say, text
from core.i18n import _
from core.users.services import get_user_by_username


@click.group()
def token() -> None:
    """Personal access tokens for the JSON API (/api/v1)."""


@token.command("create")
@click.argument("username")
@click.option("--scope", type=click.Choice(["read", "write"]), default="read", show_default=True,
              help="read: GET only; write: every method.")
@click.option("--expires-days", type=click.IntRange(1, MAX_EXPIRY_DAYS), default=90, show_default=True)
@click.option("--name", default="", help="What the token is for (default: “cli”).")
@click.pass_obj
def create(env: CliEnvironment, username: str, scope: str, expires_days: int, name: str) -> None:
    """Create a token for USERNAME and print it. It is shown this once: only its hash is kept."""
    with env.ctx() as ctx:
        user = get_user_by_username(ctx, username)
        secret, row = create_token(ctx, user, name or "cli", scope, expires_days)
        say(_("Token ${id} for ${username} (${scopes}), valid until ${expires}. Shown once, keep it safe:"),
            err=True, id=row.id, username=username, scopes=row.scopes,
            expires=row.expires_at.strftime("%Y-%m-%d %H:%M UTC"))
    click.echo(secret)


@token.command("revoke")
@click.argument("token_id", type=int)
@click.pass_obj
def revoke(env: CliEnvironment, token_id: int) -> None:
    """Revoke the token with id TOKEN_ID at once."""
    with env.ctx() as ctx:
        row = get_token(ctx, token_id)
        revoke_token(ctx, row)
        say(_("Revoked token ${id} (${prefix}) of ${username}."), id=row.id, prefix=display_prefix(row),
            username=row.user.username)


@token.command("list")
@click.argument("username")
@click.pass_obj
def list_(env: CliEnvironment, username: str) -> None:
    """List USERNAME's tokens (never the tokens themselves)."""
    with env.ctx() as ctx:
        rows = list_tokens(ctx, get_user_by_username(ctx, username))
        if not rows:
            say(_("${username} has no tokens."), username=username)
        states = {"active": text(_("active")), "expired": text(_("expired")), "revoked": text(_("revoked"))}
        for row in rows:
            used = row.last_used_at.strftime("%Y-%m-%d %H:%M") if row.last_used_at else "-"
            click.echo(f"{row.id}\t{display_prefix(row)}\t{row.name}\t{row.scopes}\t"
                       f"{row.expires_at:%Y-%m-%d}\t{used}\t{states[row.state(ctx.now)]}")
