"""One result table of `bench.reliability`: its rows, and what was not as expected.

Each part of the reliability bench (faults, kills, hostile input) returns one `Table`; the bench
prints them all and fails if any holds a surprise. A surprise is a sentence naming the row and
what was found instead of what was expected, so a failed run reads like a bug report.
"""

from dataclasses import dataclass, field


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[object]] = field(default_factory=list)
    surprises: list[str] = field(default_factory=list)
    summary: str = ""  # one clause for the bench's last line, e.g. "200 kills, all zeros"

    def add(self, *row: object) -> None:
        self.rows.append(list(row))

    def render(self) -> str:
        """The table as Markdown, then its surprises, if any."""
        lines = [f"## {self.title}", "", "| " + " | ".join(self.columns) + " |",
                 "|" + "|".join("---" for _ in self.columns) + "|"]
        lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in self.rows]
        if self.surprises:
            lines += ["", f"{len(self.surprises)} not as expected:"]
            lines += [f"- {surprise}" for surprise in self.surprises]
        return "\n".join(lines)
