"""Read a pytest JUnit XML report and refuse runs in which required tests did not run.

A green pytest run can hide a browser test or a PostgreSQL-only test that skipped itself
because its prerequisite was missing, or that was deleted; CI must treat either as a failure.

Usage:
    check_skips.py REPORT.xml [--label NAME]
                   [--forbid-dir DIR] [--forbid-name WORD] [--forbid-marker MARKER]
                   [--expect-dir DIR] [--expect-name WORD]

Every skipped test is printed with its reason. The exit status is 1 when the report is missing
or unreadable, when no test was executed, when a skipped test matches a --forbid-* rule, or
when no executed test matches an --expect-* rule.
"""

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree


@dataclass
class Case:
    test_id: str
    markers: set[str] = field(default_factory=set)
    skipped: bool = False
    xfailed: bool = False
    reason: str = ""
    location: str = ""


def read_cases(report: Path) -> list[Case]:
    # The report is written by our own pytest run a moment earlier, not by an outsider.
    root = ElementTree.parse(report).getroot()  # noqa: S314
    cases = []
    for node in root.iter("testcase"):
        classname, name = node.get("classname", ""), node.get("name", "")
        # A module skipped at collection time comes as classname="" and name="tests.e2e.mod".
        case = Case(test_id=f"{classname}.{name}" if classname else name)
        for prop in node.iter("property"):
            if prop.get("name") == "markers":
                case.markers.update(filter(None, prop.get("value", "").split(",")))
        skipped = node.find("skipped")
        if skipped is not None:
            # pytest files expected failures under <skipped> too, but those tests did run.
            case.xfailed = skipped.get("type") == "pytest.xfail"
            case.skipped = not case.xfailed
            case.reason = skipped.get("message", "")
            detail = " ".join((skipped.text or "").split())
            # pytest writes "path:line: reason"; keep the place, the reason is printed already.
            case.location = detail.removesuffix(case.reason).rstrip(": ")
        cases.append(case)
    return cases


def in_dir(case: Case, directory: str) -> bool:
    prefix = directory.strip("/").replace("/", ".")
    return case.test_id == prefix or case.test_id.startswith(prefix + ".")


def named(case: Case, word: str) -> bool:
    return word.lower() in case.test_id.lower()


def forbidden_because(case: Case, args: argparse.Namespace) -> str | None:
    """Say which rule makes this skip unacceptable, or None when it may be skipped."""
    for directory in args.forbid_dir:
        if in_dir(case, directory):
            return f"everything in {directory} must run"
    for word in args.forbid_name:
        if named(case, word):
            return f"tests named '{word}' must run"
    for marker in args.forbid_marker:
        if marker in case.markers:
            return f"tests marked '{marker}' must run"
    return None


def missing_expectations(ran: list[Case], args: argparse.Namespace) -> list[str]:
    """Describe each --expect-* rule that no executed test satisfies."""
    missing = []
    for directory in args.expect_dir:
        if not any(in_dir(case, directory) for case in ran):
            missing.append(f"no test in {directory} ran")
    for word in args.expect_name:
        if not any(named(case, word) for case in ran):
            missing.append(f"no test named '{word}' ran")
    return missing


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--label", default=None, help="name of the run, for the messages")
    parser.add_argument("--forbid-dir", action="append", default=[], metavar="DIR")
    parser.add_argument("--forbid-name", action="append", default=[], metavar="WORD")
    parser.add_argument("--forbid-marker", action="append", default=[], metavar="MARKER")
    parser.add_argument("--expect-dir", action="append", default=[], metavar="DIR")
    parser.add_argument("--expect-name", action="append", default=[], metavar="WORD")
    args = parser.parse_args(argv)
    label = args.label or str(args.report)

    try:
        cases = read_cases(args.report)
    except (OSError, ElementTree.ParseError) as exc:
        print(f"[{label}] FAIL: cannot read the JUnit report {args.report}: {exc}")
        return 1

    skipped = [case for case in cases if case.skipped]
    ran = [case for case in cases if not case.skipped]
    print(f"[{label}] {len(cases)} tests in the report: {len(ran)} ran, {len(skipped)} skipped")
    for case in ran:
        if case.xfailed:
            print(f"  ran, expected to fail: {case.test_id}: {case.reason}")

    refused = []
    for case in skipped:
        rule = forbidden_because(case, args)
        print(f"  skipped: {case.test_id} [{f'NOT ALLOWED: {rule}' if rule else 'allowed'}]")
        print(f"      reason: {case.reason}")
        if case.location:
            print(f"      at: {case.location}")
        if rule:
            refused.append(case)

    problems = []
    if not ran:
        problems.append("no test was executed")
    if refused:
        problems.append(f"{len(refused)} required test(s) were skipped")
    problems.extend(missing_expectations(ran, args))
    for problem in problems:
        print(f"[{label}] FAIL: {problem}")
    if not problems:
        print(f"[{label}] OK: every required test ran")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
