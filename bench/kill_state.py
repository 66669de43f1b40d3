"""One state of the kill campaign (`bench.kill_campaign`): a store, a database and a DAGSTER_HOME
of its own on one backend, the `stock-assets materialize` command run on it, and what is read
back from it after a kill: torn objects, half-loaded symbols, leftovers, and a snapshot to
compare with a clean run's.

A snapshot holds what a clean run makes the same every time: each latest object's bytes
(`raw_quotes` and `corporate_actions` records without their `fetched_at` times, which every
fetch sets anew), each archive folder's set of distinct contents (read the same way; an entry's
key carries the time it was archived, and a corporate-actions entry's SHA-256 covers its fetch
time, so a run killed between archiving and storing the record archives the same events again
on its re-run, under another key), and per symbol the table's values and lineage (the source
object's key and SHA-256; the run id and load time left out).
"""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from bench.kill_launcher import Launcher
from bench.kill_point.kill_hooks import KILL_AT, KILL_NOTE
from stock_assets.database.schema import LINEAGE_COLUMNS
from stock_assets.storage.archive import entry_sha256
from stock_assets.storage.formats import get_format
from stock_assets.storage.local import LOCKS, TMP_MARK, LocalFolderStore
from stock_assets.storage.objects import ObjectStore, StorageError
from stock_assets.storage.s3 import S3Store
from stock_assets_tests.environments import loopback_api, nothing_set

LOCAL, S3 = "local+sqlite", "s3+postgres"
BACKENDS = (LOCAL, S3)
BUCKET = "kills"
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
STOCK_ASSETS = str(Path(sys.executable).with_name("stock-assets"))
MOTO_KEYS = dict.fromkeys(("aws_access_key_id", "aws_secret_access_key"), "testing")  # moto's
KILL_POINT_DIR = str(Path(__file__).with_name("kill_point"))
RUN_TIMEOUT_SECONDS = 600  # a run waiting for a pool slot never freed would wait forever
VOLATILE_FIELDS = {"fetched_at"}  # set by every fetch


def _admin(statement: str) -> None:
    engine = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as connection:
        connection.execute(sa.text(statement))
    engine.dispose()


def _without_volatile(value):
    if isinstance(value, dict):
        return {k: _without_volatile(v) for k, v in value.items() if k not in VOLATILE_FIELDS}
    if isinstance(value, list):
        return [_without_volatile(v) for v in value]
    return value


def _digest(value) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:16]


class State:
    """A fresh state in `folder`, or a copy of `template`; `name` (unique on the Postgres
    server and in the bucket) names its database and S3 prefix."""

    def __init__(self, backend: str, folder: Path, name: str, symbols: list[str], s3_url: str,
                 template: "State | None" = None, launcher: Launcher | None = None):
        self.backend, self.folder, self.symbols, self.s3_url = backend, folder, symbols, s3_url
        self.name, self.launcher = name, launcher
        self.home = folder / "home"
        if backend == LOCAL:
            self.storage_url = str(folder / "objects")
            self.database_url = f"sqlite:///{folder / 'warehouse.sqlite'}"
        else:
            self.storage_url = f"s3://{BUCKET}/{self.name}"
            self.database_url = sa.make_url(POSTGRES_ADMIN).set(database=self.name)
            self.database_url = self.database_url.render_as_string(hide_password=False)
        if template is None:
            # No dagster.yaml: the command gives it the project's, as to any new DAGSTER_HOME,
            # with its pool limit (one `alphavantage` slot), which a run killed mid-fetch holds.
            self.home.mkdir(parents=True)
            if backend == S3:
                _admin(f'CREATE DATABASE "{self.name}"')
        else:
            self._copy(template)

    def _copy(self, template: "State") -> None:
        """This state as the template left it, byte for byte (checksums and all)."""
        shutil.copytree(template.folder, self.folder)  # copy2: keeps the checksum xattrs
        if self.backend == S3:
            _admin(f'CREATE DATABASE "{self.name}" TEMPLATE "{template.name}"')
            client = self.s3_client()
            for key in template.store().list():
                client.copy_object(
                    Bucket=BUCKET, Key=f"{self.name}/{key}",
                    CopySource={"Bucket": BUCKET, "Key": f"{template.name}/{key}"},
                )

    def s3_client(self):
        return boto3.client("s3", endpoint_url=self.s3_url, region_name="us-east-1",
                            **MOTO_KEYS)

    def store(self) -> ObjectStore:
        if self.backend == LOCAL:
            return LocalFolderStore(self.storage_url)
        return S3Store(self.s3_client(), BUCKET, self.name)

    def env(self, api_url: str) -> dict[str, str]:
        return {
            **nothing_set("AWS_"), **loopback_api(api_url, "kills-key"),
            "STOCK_ASSETS_SYMBOLS": ",".join(self.symbols),
            "STOCK_ASSETS_STORAGE_URL": self.storage_url,
            "STOCK_ASSETS_DATABASE_URL": self.database_url,
            "STOCK_ASSETS_DATA_DIR": str(self.folder / "data"),
            "DAGSTER_HOME": str(self.home),
            "AWS_ENDPOINT_URL": self.s3_url, "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        }

    def materialize(self, api_url: str, kill_at: str | None = None,
                    note: Path | None = None) -> subprocess.CompletedProcess:
        """`stock-assets materialize`, armed at `kill_at` (a phase:n, or "count") if given: the
        console script, or a child of the `launcher`'s fork servers if the state has one."""
        env = self.env(api_url)
        if kill_at is not None:
            env.update({"PYTHONPATH": KILL_POINT_DIR, KILL_AT: kill_at, KILL_NOTE: str(note)})
        if self.launcher is not None:
            return self.launcher.run(env, self.folder, RUN_TIMEOUT_SECONDS)
        return subprocess.run([STOCK_ASSETS, "materialize"], env=env, cwd=self.folder,
                              capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)

    def drop(self) -> None:
        """Remove everything of this state: folder, database, S3 objects."""
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.backend == S3:
            _admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            client, keys = self.s3_client(), self.store().list()
            for start in range(0, len(keys), 1000):
                objects = [{"Key": f"{self.name}/{k}"} for k in keys[start:start + 1000]]
                client.delete_objects(Bucket=BUCKET, Delete={"Objects": objects})

    def torn_objects(self) -> list[str]:
        """Objects that do not read back whole: checksum missing or wrong, or unparseable."""
        store, torn = self.store(), []
        for key in store.list():
            try:
                stored = store.get(key)
                extension = key.rpartition(".")[2]
                get_format(extension).decode(stored.data, as_frame=extension != "json")
                if not stored.version.sha256:
                    torn.append(f"{key} (no checksum)")
            except (StorageError, ValueError) as error:
                torn.append(f"{key} ({error})")
        return torn

    def leftovers(self) -> list[str]:
        """Temp files and lock files of killed writers, or incomplete multipart uploads."""
        if self.backend == LOCAL:
            root = Path(self.storage_url)
            return sorted(
                str(p.relative_to(root)) for p in root.rglob("*")
                if p.is_file() and (TMP_MARK in p.name or p.parent.name == LOCKS)
            ) if root.exists() else []
        answer = self.s3_client().list_multipart_uploads(Bucket=BUCKET, Prefix=f"{self.name}/")
        return sorted(f"upload of {u['Key']}" for u in answer.get("Uploads", []))

    def table_rows(self) -> dict[str, list[tuple[tuple, tuple]]]:
        """Each symbol's rows, sorted by day: (values, (source object's key, its SHA-256))."""
        engine = sa.create_engine(self.database_url, poolclass=NullPool)
        rows: dict[str, list[tuple[tuple, tuple]]] = {symbol: [] for symbol in self.symbols}
        try:
            with engine.connect() as connection:
                if not sa.inspect(connection).has_table("daily_prices"):
                    return rows
                table = sa.Table("daily_prices", sa.MetaData(), autoload_with=connection)
                values = [c for c in table.c if c.name not in LINEAGE_COLUMNS]
                query = sa.select(*values, table.c.source_uri, table.c.source_sha256)
                for row in connection.execute(query.order_by(table.c.symbol, table.c.trade_date)):
                    *value, uri, sha256 = row
                    key = "/".join(uri.split("/")[-2:])  # the root differs from state to state
                    rows.setdefault(value[0], []).append((tuple(value), (key, sha256)))
        finally:
            engine.dispose()
        return rows

    def snapshot(self) -> dict[str, str]:
        """What a clean run makes the same every time (see the module's docstring)."""
        store, taken = self.store(), {}
        for key in store.list():
            data = store.get(key).data
            if key.endswith(".json"):
                data = json.dumps(_without_volatile(json.loads(data)), sort_keys=True).encode()
            content = hashlib.sha256(data).hexdigest()[:16]
            if "/_history/" in key and entry_sha256(key):
                taken[f"{key.rpartition('/')[0]}/<stamp>_<sha256> holding {content}"] = "archived"
            else:
                taken[key] = content
        return taken | self.table_snapshot()

    def table_snapshot(self) -> dict[str, str]:
        """The table's part of a snapshot: per symbol its row count, values and lineage."""
        taken = {}
        for symbol, rows in self.table_rows().items():
            taken[f"daily_prices rows {symbol}"] = str(len(rows))
            taken[f"daily_prices values {symbol}"] = _digest([values for values, _ in rows])
            taken[f"daily_prices lineage {symbol}"] = _digest([source for _, source in rows])
        return taken


def loaded(snapshot: dict[str, str], symbol: str) -> tuple[str, str]:
    """A symbol's rows in the table as a snapshot holds them: (row count, digest of values)."""
    return snapshot[f"daily_prices rows {symbol}"], snapshot[f"daily_prices values {symbol}"]


NOTHING_LOADED = ("0", _digest([]))  # a symbol with no rows in the table
