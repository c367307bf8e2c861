"""``compliance check``: check a caption (--text) or files of posts (--input), report, record.

Exit status: 0 clean, 1 violations found, 2 usage, config or input error.
"""

from __future__ import annotations

import functools
import gc
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import click

from compliance.cli.database import since_option_value
from compliance.cli.errors import UsageError, fail, handled
from compliance.cli.options import (
    Database,
    config_option,
    load_config_file,
    load_rule_packs,
    open_output,
    output_option,
    rules_option,
    single_value,
)
from compliance.model import (
    PLATFORMS,
    RELATIONSHIPS,
    Campaign,
    CampaignError,
    Post,
    campaign_from_mapping,
)
from compliance.report import FORMATS, Writer
from compliance.safe import lone_surrogate, terminal_safe

if TYPE_CHECKING:
    from compliance.config import Config
    from compliance.packs import Packs


# The campaign flags, in the order --help lists them: every kind of check takes them.
_CAMPAIGN_OPTIONS = (
    click.option("--brand", help="Campaign brand name (for --text)."),
    click.option(
        "--handle",
        "handles",
        multiple=True,
        help="Campaign brand handle, e.g. @glowlab (repeatable).",
    ),
    click.option("--hashtag", "hashtags", multiple=True, help="Campaign hashtag (repeatable)."),
    click.option("--code", "codes", multiple=True, help="Campaign promo code (repeatable)."),
    click.option(
        "--domain", "domains", multiple=True, help="Campaign affiliate/brand domain (repeatable)."
    ),
    click.option(
        "--relationship",
        type=click.Choice(RELATIONSHIPS),
        help="The creator's connection to the brand.",
    ),
)


def campaign_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The campaign flags (--brand, --handle, --hashtag, --code, --domain, --relationship),
    parsed in one place: the command receives ``campaign`` (a Campaign, or None)."""

    @functools.wraps(fn)
    def command(*args: Any, **kwargs: Any) -> Any:
        flags = {param: kwargs.pop(param) for param in _CAMPAIGN_PARAMS}
        return fn(*args, campaign=campaign_from_flags(flags), **kwargs)

    for option in reversed(_CAMPAIGN_OPTIONS):
        command = option(command)
    return command


@click.command()
@click.argument("targets", nargs=-1, metavar="[ACCOUNT|URL]...")
@click.option("--text", "text", help="Check one caption given on the command line.")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    type=click.Path(allow_dash=True),
    help="A file of posts: JSON Lines, CSV or Instagram JSON (file or directory); '-' for stdin. Repeatable.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@output_option
@click.option(
    "--jurisdiction",
    "-j",
    multiple=True,
    callback=single_value,
    help="Country whose rules apply (US, GB, CA, AU, DE, FR, ES, IT); default US, or each record's own.",
)
@click.option(
    "--platform",
    "-p",
    type=click.Choice(PLATFORMS),
    multiple=True,
    callback=single_value,
    help="Platform of --text, or default for records without one.",
)
@campaign_options
@click.option(
    "--paid-partnership/--no-paid-partnership",
    default=None,
    help="Whether the platform's paid-partnership label is on (for --text).",
)
@click.option("--video", is_flag=True, default=None, help="The post is a video (for --text).")
@click.option("--transcript", help="Spoken/on-screen text of the video (for --text).")
@click.option(
    "--language", help="Declare the post's language instead of detecting it (for --text)."
)
@rules_option
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour text output (default: when writing to a terminal).",
)
@click.option("--verbose", "-v", is_flag=True, help="Show sponsorship signals in text output.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for --input (default: one per available core).",
)
@click.option(
    "--record/--no-record",
    default=None,
    help="Record posts, verdicts and violations in the database (default: yes for --input, "
    "no for --text, a scratch check).",
)
@click.option("--db", metavar="URL", help="Database to record into (see 'compliance db --help').")
@config_option
@click.option(
    "--creator",
    "creators",
    multiple=True,
    help="Every account of this creator of compliance.yaml, with its campaigns (repeatable).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Most recent posts read per account or hashtag.",
)
@click.option("--since", help="Only posts since then: 30d, 12h, 2w or a date.")
@click.option(
    "--alerts/--no-alerts",
    "alerts",
    default=True,
    help="Send the alerts of compliance.yaml for what this run records (default: yes).",
)
def check(
    targets: tuple[str, ...],
    text: str | None,
    inputs: tuple[str, ...],
    fmt: str,
    output: str,
    jurisdiction: str | None,
    platform: str | None,
    campaign: Campaign | None,
    paid_partnership: bool | None,
    video: bool | None,
    transcript: str | None,
    language: str | None,
    rules_dir: str | None,
    color: bool | None,
    verbose: bool,
    jobs: int | None,
    record: bool | None,
    db: str | None,
    config_path: str | None,
    creators: tuple[str, ...],
    limit: int,
    since: str | None,
    alerts: bool,
) -> None:
    """Check posts and report each verdict: a caption (--text), files of posts (--input),
    accounts (tiktok:@creator, youtube:@channel, bluesky:name.bsky.social,
    mastodon:@user@instance, instagram:@x, x:@x), post URLs, or with --config a
    creator's accounts (--creator NAME) or a hashtag challenge's entries (--hashtag NAME).

    Posts from --input, accounts and URLs are also recorded in the database
    (--no-record: read-only); the report itself is the same either way. With --config,
    --hashtag names a configured hashtag monitor when there is one of that name or tag,
    else it is a campaign hashtag as for --text.

    Exit status: 0 no violations, 1 at least one violation, 2 usage, rule, input or
    fetch error (each one line on stderr; everything else is still checked).
    """
    config = load_config_file(config_path)
    watches: list[str] = []
    if config is not None and campaign is not None and campaign.hashtags:
        from compliance.cli.monitor import hashtag_watches

        watches, plain = hashtag_watches(config, campaign.hashtags)
        if watches:
            from dataclasses import replace

            campaign = replace(campaign, hashtags=tuple(plain)) if plain else None
            if campaign is not None and campaign.is_empty:
                campaign = None
    remote = bool(targets or creators or watches)
    if sum((text is not None, bool(inputs), remote)) != 1:
        raise UsageError(
            "give one of --text CAPTION, --input FILE, or accounts/URLs "
            "(e.g. tiktok:@creator, or --config FILE --creator NAME)"
        )
    database = Database(db, config.database if config else None)
    recording = record if record is not None else text is None
    recorder = None
    if recording and not remote:
        recorder = _recorder(database, _alerts_hook(config, alerts))
    if jobs is None:
        from compliance.batch import default_jobs

        jobs = default_jobs()
    if config is not None:
        jurisdiction = jurisdiction or config.jurisdiction
    packs = _packs(rules_dir, config)
    from compliance.packs import PackError

    try:
        # Load (and so validate) the pack these posts default to before any output.
        packs.for_jurisdiction(jurisdiction)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    except PackError as exc:
        fail(str(exc))
    # The loaded packs and spaCy pipelines live as long as the process: keep the garbage
    # collector from re-scanning them at every full collection (recording allocates enough
    # to trigger many: ~1.2 s of 10 on 40,000 posts), and forked workers from copying them.
    gc.freeze()

    out = open_output(output)
    use_color = (
        color if color is not None else (fmt == "text" and output == "-" and sys.stdout.isatty())
    )
    writer = Writer(fmt, out, color=use_color, verbose=verbose, keep_verdicts=recorder is not None)

    from compliance.engine import check as check_post

    if remote:
        from compliance.cli.database import utcnow
        from compliance.cli.monitor import check_targets, plan_targets

        plan = plan_targets(
            targets,
            creators,
            watches,
            config=config,
            campaign=campaign,
            jurisdiction=jurisdiction,
            limit=limit,
            since=since_option_value(since, utcnow()),
        )
        check_targets(
            plan,
            config=config,
            packs=packs,
            writer=writer,
            database=database,
            record=recording,
            alerts_enabled=alerts,
            progress=sys.stderr.isatty() and len(plan.jobs) > 1,
        )
    elif text is not None:
        _refuse_surrogates(("--text", text), ("--transcript", transcript))
        post = Post(
            caption=text,
            platform=platform or "other",
            paid_partnership=paid_partnership,
            is_video=video,
            transcript=transcript,
            jurisdiction=jurisdiction,
            language=language,
            campaign=campaign,
        )
        verdict = check_post(post, packs)
        writer.write(verdict, "<text>")
        if recorder is not None:
            _record(recorder, verdict, "<text>", out)
    else:
        from compliance.batch import check_records

        records = _records(inputs, platform, jurisdiction)
        try:
            for where, outcome in check_records(records, packs, writer.renderer, jobs):
                if isinstance(outcome, str):
                    writer.error()
                    click.echo(f"compliance: {terminal_safe(outcome)}", err=True)
                else:
                    writer.write_rendered(outcome)
                    if recorder is not None:
                        _record(recorder, outcome.result, where, out)
        except PackError as exc:  # another jurisdiction's pack, first needed mid-run
            out.flush()
            fail(str(exc))
    writer.close()
    if recorder is not None:
        _finish_recording(recorder, out)
        from compliance.cli.monitor import alerts_config, deliver_alerts

        deliver_alerts(recorder.store, alerts_config(config, alerts))
    if out is not sys.stdout:
        out.close()
    if fmt != "text" and writer.totals.posts != 1:
        click.echo(writer.totals.summary(), err=True)
    sys.exit(writer.totals.exit_code)


# Each campaign flag's parameter name -> (the campaign key it sets, the flag as typed).
_CAMPAIGN_PARAMS = {
    "brand": ("brand", "--brand"),
    "handles": ("handles", "--handle"),
    "hashtags": ("hashtags", "--hashtag"),
    "codes": ("promo_codes", "--code"),
    "domains": ("domains", "--domain"),
    "relationship": ("relationship", "--relationship"),
}


def campaign_from_flags(flags: Mapping[str, Any]) -> Campaign | None:
    """The campaign that the campaign flags (by parameter name: brand, handles, hashtags,
    codes, domains, relationship) describe, built by the one builder ('@' and '#' added,
    blanks dropped); None when they describe none. Every kind of check takes it."""
    data = {_CAMPAIGN_PARAMS[param][0]: value for param, value in flags.items()}
    try:
        campaign = campaign_from_mapping(data)
    except CampaignError as exc:
        flag = next((f for k, f in _CAMPAIGN_PARAMS.values() if k == exc.key), "--brand")
        raise UsageError(f"{flag}: {exc.problem}") from None
    return None if campaign.is_empty else campaign


def _refuse_surrogates(*values: tuple[str, str | None]) -> None:
    """A usage error for an argument that holds a lone surrogate: Python's stand-in for
    bytes that were not UTF-8 (a Latin-1 terminal). It cannot be written, recorded or
    hashed, so it is refused as the input readers refuse such a record."""
    for flag, value in values:
        at = lone_surrogate(value) if value is not None else None
        if value is not None and at is not None:
            raise UsageError(
                f"{flag}: not valid UTF-8 (\\u{ord(value[at]):04x} at character {at + 1}); "
                "give the text in UTF-8"
            )


def _packs(rules_dir: str | None, config: Config | None) -> Packs:
    """The rule packs: --rules, else the config's rules.dir, else the shipped ones; with the
    config's rule overrides applied. Errors exit 2."""
    if config is None:
        return load_rule_packs(rules_dir)
    with handled():
        return config.packs(rules_dir)


def _recorder(db: Database, on_changes: Any = None) -> Any:
    """A Recorder on the database (opened, and created if new, before any output); errors exit 2.
    ``on_changes`` writes the alerts' outbox rows in each recording transaction."""
    from compliance.cli.database import open_db, utcnow
    from compliance.store.record import Recorder

    return Recorder(open_db(db), now=utcnow, on_changes=on_changes)


def _alerts_hook(config: Config | None, enabled: bool) -> Any:
    """The recorder's outbox hook when compliance.yaml has alerts and they are on."""
    from compliance.cli.monitor import alerts_config, on_changes_for

    return on_changes_for(alerts_config(config, enabled))


def _record(recorder: Any, verdict: Any, where: str, out: Any) -> None:
    """Queue one verdict for recording (a full batch is written now)."""
    from compliance.store.db import StoreError

    try:
        recorder.add(verdict, source=where)
    except StoreError as exc:
        _recording_failed(exc, out)


def _finish_recording(recorder: Any, out: Any) -> None:
    """Write the last batch and say on stderr what was recorded."""
    from compliance.store.db import StoreError

    try:
        stats = recorder.close()
    except StoreError as exc:
        _recording_failed(exc, out)
    click.echo(f"compliance: {stats.summary()} in {recorder.store.display}", err=True)


def _recording_failed(exc: Exception, out: Any) -> None:
    """One line and exit 2. Each batch is one transaction: what was committed stays whole."""
    out.flush()
    fail(f"{exc} (recording stopped; batches written before this one are kept)")


def _records(
    inputs: tuple[str, ...], platform: str | None, jurisdiction: str | None
) -> Iterator[tuple[str, Post | str]]:
    """(where, post) for each good record and (where, message) for each bad one."""
    from compliance.inputs import InputError, InputFormatError, read_posts

    for path in inputs:
        n = 0
        try:
            for n, item in enumerate(
                read_posts(path, default_platform=platform, default_jurisdiction=jurisdiction), 1
            ):
                if isinstance(item, InputError):
                    yield item.where, str(item)
                else:
                    yield (item.id and f"{path}:{item.id}") or f"{path}#{n}", item
        except InputFormatError as exc:
            yield str(path), str(exc)
            continue
        if n == 0:
            # "0 posts checked, exit 0" would read as "all clean" to a script: an empty
            # export is far more often a failed one than a creator with nothing posted.
            where = "<stdin>" if path == "-" else str(path)
            yield where, f"{where}: no posts in this input (an empty file?)"
