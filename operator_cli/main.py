"""`unsubscribe-all`: argument parsing, the target, and exit codes; each command lives in its module.

Exit codes: 0 done; 1 some lines were rejected (enqueue) or an operation failed; 2 wrong usage
or no target; 130 interrupted. Every command takes `--json`: one JSON document on stdout (on a
failure `{"error", "exitCode"}`), the lines for people on stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from operator_cli import dead_letters, enqueue_report, link, status
from operator_cli.batch_sender import BatchSender, describe_aws_error
from operator_cli.email_file import FileFormat
from operator_cli.enqueue import EnqueueOptions, enqueue_file
from operator_cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError, OperationError, UsageError
from operator_cli.output import Output
from operator_cli.signed_http import region_of, signed_get, signed_request
from operator_cli.targets import LOCAL_STATE_ENV, Overrides, Target, resolve_target
from optout.domain.request import InvalidRequestError, business_unit_id_from_text
from optout.whole_numbers import whole_number

PROG = "unsubscribe-all"
EXIT_INTERRUPTED = 130
MAX_OPTION_NUMBER = 1_000_000  # --limit, --timeout: far past any sensible value
_NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})

DESCRIPTION = """\
Operate the hubspot-unsubscribe-all service: enqueue lists of addresses, read a subscriber's
status through the service's API, mint a one-click unsubscribe link, and list or redrive the
dead-letter queue.

Target: the local stack while `make run` runs (it writes .run/local-stack.json), or a deployed
stack with --stack-name (its CloudFormation Outputs; credentials and region as the AWS CLI
finds them, or --profile and --region). --queue-url, --dlq-url and --api-url override either.
Every command takes --json: one JSON document on stdout, the text for people on stderr.
"""
EPILOG = """\
examples:
  unsubscribe-all enqueue leavers.csv --column email
  unsubscribe-all enqueue leavers.csv --dry-run
  unsubscribe-all enqueue leavers.txt --business-unit 7 --stack-name unsubscribe-prod --profile ops
  unsubscribe-all status jane@example.com --json
  unsubscribe-all link jane@example.com --business-unit 7
  unsubscribe-all dlq --json
  unsubscribe-all dlq redrive --stack-name unsubscribe-prod

exit codes: 0 done, 1 lines rejected or an operation failed, 2 usage or no target, 130 interrupted
"""


def _business_unit(text: str) -> int:
    try:
        return business_unit_id_from_text(text)
    except InvalidRequestError as error:
        raise argparse.ArgumentTypeError(error.message) from None


def _positive(text: str) -> int:
    number = whole_number(text, maximum=MAX_OPTION_NUMBER)
    if number is None or number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_OPTION_NUMBER}")
    return number


def _target_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("target (default: the local stack of `make run`)")
    group.add_argument("--stack-name", metavar="NAME", help="a deployed stack: read its Outputs")
    group.add_argument("--region", help="the deployed stack's region (default: AWS_REGION, the profile's)")
    group.add_argument(
        "--profile",
        metavar="NAME",
        help="the AWS profile for a deployed stack or explicit URLs (default: AWS_PROFILE); "
        "never the local stack",
    )
    group.add_argument(
        "--local-state",
        metavar="PATH",
        help=f"the local stack's state file (default: ${LOCAL_STATE_ENV}, else .run/local-stack.json "
        "in this folder, a parent, or the checkout)",
    )
    group.add_argument("--queue-url", metavar="URL", help="the queue to send to")
    group.add_argument("--dlq-url", metavar="URL", help="the dead-letter queue")
    group.add_argument("--api-url", metavar="URL", help="the API stage's URL (the ApiUrl output)")
    parent.add_argument(
        "--json", action="store_true", help="one JSON document on stdout; the text for people goes to stderr"
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    target = _target_options()

    enqueue = commands.add_parser(
        "enqueue",
        parents=[target],
        help="send the addresses in a CSV or text file to the queue (resumable)",
        description="Send every valid address in FILE to the queue, ten a call. A checkpoint beside "
        "FILE (FILE.checkpoint.json) lets a re-run continue where a crash stopped; each message's "
        "idempotencyKey is <first 16 hex of FILE's sha256>:[bu<N>:]<line>, so a line sent twice still "
        "costs one HubSpot call. Rejected lines are listed (masked) and written whole to "
        "FILE.rejected.csv.",
    )
    enqueue.add_argument(
        "file", metavar="FILE", type=Path, help="a CSV file, or a text file of one address a line"
    )
    enqueue.add_argument(
        "--column",
        metavar="NAME|INDEX",
        help="the CSV column of the addresses: its header, or its number from 1 (default: a header such "
        "as `email`, else the first column holding an address); implies CSV",
    )
    enqueue.add_argument(
        "--format",
        dest="file_format",
        type=FileFormat,
        choices=list(FileFormat),
        default=FileFormat.AUTO,
        help="how to read FILE (default auto: CSV for .csv/.tsv or with --column, else text)",
    )
    enqueue.add_argument("--business-unit", metavar="N", type=_business_unit, help="HubSpot business unit id")
    enqueue.add_argument(
        "--restart",
        action="store_true",
        help="ignore the checkpoint and send every line again (an unchanged file keeps its keys, so "
        "the function runs each line once; a changed file's lines get new keys)",
    )
    enqueue.add_argument(
        "--dry-run",
        action="store_true",
        help="read and check FILE and say what would be sent, repeated and rejected; send nothing, "
        "reach no AWS API, leave the checkpoint as it is (FILE.rejected.csv is still written)",
    )
    enqueue.add_argument(
        "--show-rejected",
        metavar="N",
        type=int,
        default=20,
        help="rejected and repeated lines to list (default 20)",
    )
    enqueue.set_defaults(handler=_enqueue)

    status_command = commands.add_parser(
        "status",
        parents=[target],
        help="a subscriber's unsubscribe-all status, through the service's signed API",
        description="Read EMAIL's unsubscribe-all status from HubSpot through the service's API "
        "(SigV4-signed for execute-api with your AWS credentials; the service holds the HubSpot token). "
        "--json prints the API's body as it came.",
    )
    status_command.add_argument("email", metavar="EMAIL")
    status_command.add_argument("--business-unit", metavar="N", type=_business_unit)
    status_command.set_defaults(handler=_status)

    link_command = commands.add_parser(
        "link",
        parents=[target],
        help="a one-click unsubscribe link (RFC 8058) for an address, minted by the service",
        description="Mint a one-click unsubscribe link for EMAIL through the service's signed API "
        "(POST /one-click-links). Prints the URL as the first line, then the two mail headers to add "
        "(List-Unsubscribe and List-Unsubscribe-Post). The URL holds no form of the address.",
    )
    link_command.add_argument("email", metavar="EMAIL")
    link_command.add_argument("--business-unit", metavar="N", type=_business_unit)
    link_command.set_defaults(handler=_link)

    dlq = commands.add_parser(
        "dlq",
        parents=[target],
        help="list the dead-letter queue, or redrive it to the queue",
        description="list (the default): the dead-lettered messages with their reasons, addresses "
        "masked; nothing is deleted and the messages are visible again when the listing ends. "
        "redrive: move them back to the queue with SQS's message move task (or, on an endpoint "
        "without it, a plain receive, send, delete).",
    )
    dlq.add_argument("action", nargs="?", choices=["list", "redrive"], default="list")
    dlq.add_argument("--limit", metavar="N", type=_positive, default=100, help="most messages to list (100)")
    dlq.add_argument("--no-wait", action="store_true", help="redrive: start the move task, do not wait")
    dlq.add_argument(
        "--timeout", metavar="SECONDS", type=_positive, default=300, help="redrive: longest wait (300)"
    )
    dlq.set_defaults(handler=_dlq)
    return parser


def _version() -> str:
    try:
        return metadata.version("hubspot-unsubscribe-all")
    except metadata.PackageNotFoundError:
        return "unknown"


def _target(args: argparse.Namespace) -> Target:
    return resolve_target(
        stack_name=args.stack_name,
        region=args.region,
        profile=args.profile,
        local_state=args.local_state,
        overrides=Overrides(args.queue_url, args.dlq_url, args.api_url),
    )


def _enqueue(args: argparse.Namespace, output: Output) -> int:
    path: Path = args.file
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    options = EnqueueOptions(
        path,
        None,
        args.column,
        args.business_unit,
        args.restart,
        args.file_format,
        dry_run=args.dry_run,
        shown=max(args.show_rejected, 0),
    )
    target: Target | None = None
    sender: BatchSender | None = None
    if args.dry_run:
        print(f"enqueue {path}, dry run: nothing is sent, no AWS API is called", file=output.err)
    else:
        target = _target(args)
        queue_url = target.require_queue_url()
        options = dataclasses.replace(options, queue_url=queue_url)
        sender = BatchSender(target.sqs(), queue_url)
        print(f"enqueue {path} to {queue_url} ({target.description})", file=output.err)
    result = enqueue_file(options, sender, output.err)
    for line in enqueue_report.summary(path, result):
        output.say(line)
    output.document(
        enqueue_report.document(path, result, target.description if target else None, options.queue_url)
    )
    return EXIT_FAILED if result.rejected_count and not result.finished_before else EXIT_OK


def _status(args: argparse.Namespace, output: Output) -> int:
    email = status.checked_email(args.email)
    target = _target(args)
    api_url = target.require_api_url()
    url = status.status_url(api_url, email, args.business_unit)
    answer = signed_get(url, target.credentials(), region_of(api_url, target.region))
    if output.json_mode:
        print(answer.text, file=output.out)
        output.document_written = True
    if answer.status != 200:
        raise status.failure(answer, api_url)
    try:
        body = json.loads(answer.text)
    except ValueError:
        raise OperationError("the API answered 200 with a body that is not JSON") from None
    for line in status.describe(email, args.business_unit, body):
        output.say(line)
    return EXIT_OK


def _link(args: argparse.Namespace, output: Output) -> int:
    email = status.checked_email(args.email)
    target = _target(args)
    api_url = target.require_api_url()
    url = link.mint_url(api_url)
    body = link.request_body(email, args.business_unit)
    answer = signed_request(
        "POST", url, target.credentials(), region_of(api_url, target.region), json_body=body
    )
    if answer.status != 200:
        raise status.failure(answer, api_url)
    minted = link.minted_link(answer)
    for line in link.describe(minted):
        output.say(line)
    print(f"the link works until {minted.expires_at}", file=output.err)
    output.document(link.document(minted))
    return EXIT_OK


def _dlq(args: argparse.Namespace, output: Output) -> int:
    target = _target(args)
    dlq_url = target.require_dead_letter_queue_url()
    if args.action == "redrive":
        return _redrive(args, target, dlq_url, output)
    listing = dead_letters.list_dead_letters(target.sqs(), dlq_url, limit=args.limit)
    for index, letter in enumerate(listing.letters, start=1):
        for line in dead_letters.describe(index, letter):
            output.say(line)
    more = f" (the first {args.limit}; about {listing.approximate_total} on the queue)"
    output.say(f"{len(listing.letters)} dead-lettered message(s){more if listing.limit_reached else ''}")
    if listing.not_released:
        print(
            f"warning: {listing.not_released} message(s) stay hidden for up to "
            f"{dead_letters.LIST_VISIBILITY_S} s",
            file=output.err,
        )
    output.document(
        {
            "command": "dlq list",
            "deadLetterQueueUrl": dlq_url,
            "letters": [dataclasses.asdict(letter) for letter in listing.letters],
            "listed": len(listing.letters),
            "limitReached": listing.limit_reached,
            "approximateTotal": listing.approximate_total,
            "notReleased": listing.not_released,
        }
    )
    return EXIT_OK


def _redrive(args: argparse.Namespace, target: Target, dlq_url: str, output: Output) -> int:
    queue_url = target.require_queue_url()
    result = dead_letters.redrive(
        target.sqs(),
        target.sqs(_NO_RETRIES),
        dlq_url,
        queue_url,
        wait=not args.no_wait,
        timeout_s=args.timeout,
    )
    if result.status == "RUNNING":
        output.say(
            f"the {result.method} {result.task_handle} is running; "
            f"about {result.moved} message(s) moved so far"
        )
    else:
        output.say(
            f"moved {result.moved} message(s) from the dead-letter queue to the queue, by {result.method}"
        )
    output.document(
        {
            "command": "dlq redrive",
            "deadLetterQueueUrl": dlq_url,
            "queueUrl": queue_url,
            "method": result.method,
            "moved": result.moved,
            "status": result.status,
            "taskHandle": result.task_handle,
        }
    )
    return EXIT_OK if result.status in {"COMPLETED", "RUNNING"} else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    output = Output(PROG, json_mode=args.json)
    try:
        code: int = args.handler(args, output)
    except CliError as error:
        return _failed(output, str(error), error.exit_code)
    except NoCredentialsError:
        return _failed(output, "no AWS credentials found: set AWS_PROFILE or the AWS_* variables", EXIT_USAGE)
    except EndpointConnectionError as error:
        return _failed(output, f"{error}: is `make run` still running (or the network up)?", EXIT_FAILED)
    except (BotoCoreError, ClientError) as error:
        return _failed(output, describe_aws_error(error), EXIT_FAILED)
    except KeyboardInterrupt:
        message = "interrupted (an enqueue run again continues from its checkpoint)"
        return _failed(output, message, EXIT_INTERRUPTED)
    return code


def _failed(output: Output, message: str, exit_code: int) -> int:
    output.error(message, exit_code)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
