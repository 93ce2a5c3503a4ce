"""Load a written province through fundtrail's documented commands alone (docs/formats.md,
docs/ledger.md, examples/yuanxi-county/load.sh): the command line is called in this process
(`ledger.cli.root.main`, what the `fundtrail` script runs), nothing else of the ledger.

A file the ledger refuses names its lines (`FILE, line N, column C: reason`). A county would
take those lines out and import the rest; so does this loader, and it keeps every refused line
(`refused.json`): a planted misuse refused at posting is a prevention, scored apart. The bank is
played here too: it reads the file `roll send` wrote and answers as `bank-answers-*.json` says.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import secrets
import sys
import time
from pathlib import Path

from openpyxl import load_workbook

from scenarios.files import write_table

# `roll create` names a refused line by its number and household: "line 100 (H-100): ..."
ROLL_PROBLEM = re.compile(r"line (?P<line>\d+) \((?P<code>[^)]+)\): (?P<reason>.*)$")
PROBLEM = re.compile(
    r"^(?P<file>.+?), line (?P<line>\d+)(?:, column (?P<col>[^:]+))?: (?P<reason>.*)$"
)


class CommandFailed(RuntimeError):
    pass


class Fundtrail:
    """`fundtrail ARGS` in this process, with the configuration and keys of one work folder."""

    def __init__(self, work: Path, db_url: str, log=None):
        self.work = work
        self.log = log or (lambda s: None)
        self.config = work / "fundtrail.toml"
        self.config.write_text(
            f'[database]\nurl = "{db_url}"\n\n[imports]\naccept_wrong_check_character = true\n',
            encoding="utf-8",
        )
        self.calls = 0
        self.seconds = 0.0
        keys = work / "pii.json"
        if not keys.exists():
            code, out, _ = self.run("pii-keygen", check=False)
            keys.write_text(
                json.dumps(
                    {
                        "FUNDTRAIL_PII_KEYS": out.strip(),
                        "FUNDTRAIL_PII_INDEX_KEY": secrets.token_urlsafe(32),
                    }
                )
            )
        os.environ.update(json.loads(keys.read_text()))
        os.environ.pop("FUNDTRAIL_DATABASE_URL", None)
        os.environ.pop("FUNDTRAIL_USER", None)
        os.environ.pop("FUNDTRAIL_KEY", None)
        # Each person signs with their own key file (docs/signatures.md); the evaluation keeps
        # them all in its work folder, under one passphrase of its own.
        self.people = work / "people-keys"
        self.people.mkdir(exist_ok=True)
        os.environ["FUNDTRAIL_KEY_DIR"] = str(self.people)
        os.environ.setdefault("FUNDTRAIL_KEY_PASSPHRASE", secrets.token_urlsafe(18))
        self.key_requests = 0

    def enrol(self, username: str, requester: str, approver: str) -> None:
        """A key file for `username`, requested and approved by two people (four eyes)."""
        self.run("key", "new", "--user", username, "--out", self.people / f"{username}.key")
        self.run("key", "request", self.people / f"{username}.key.request", who=requester)
        self.key_requests += 1
        self.run("key", "approve", str(self.key_requests), who=approver)

    def run(self, *args: str, who: str | None = None, check: bool = True) -> tuple[int, str, str]:
        from ledger.cli.root import main  # the `fundtrail` console script's entry point

        argv = (
            ["--config", str(self.config)] + (["--as", who] if who else []) + [str(a) for a in args]
        )
        out, err = io.StringIO(), io.StringIO()
        t = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        self.calls += 1
        self.seconds += time.perf_counter() - t
        if check and code not in (0,):
            raise CommandFailed(
                f"fundtrail {' '.join(argv[2:])}: exit {code}\n{out.getvalue()}\n{err.getvalue()}"
            )
        return code, out.getvalue(), err.getvalue()


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """A table as an office saved it (CSV in UTF-8/GB18030, or .xlsx)."""
    if path.suffix == ".xlsx":
        ws = load_workbook(path, read_only=True).active
        rows = [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
    else:
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gb18030")
        rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


class Loader:
    def __init__(self, folder: Path, db_url: str, work: Path | None = None, log=print):
        self.folder = folder
        self.work = work or folder / "work"
        self.work.mkdir(parents=True, exist_ok=True)
        self.log = log
        self.ft = Fundtrail(self.work, db_url, log)
        self.plan = json.loads((folder / "steps.json").read_text(encoding="utf-8"))
        self.refused: list[dict] = []
        self.failed: list[dict] = []
        self.lots: dict[str, int] = {}
        self.bank_files: dict[str, Path] = {}

    # -- helpers ----------------------------------------------------------------------------

    def problems(self, text: str) -> list[dict]:
        found = []
        for line in text.splitlines():
            m = PROBLEM.match(line.strip())
            if m:
                found.append({"line": int(m["line"]), "column": m["col"], "reason": m["reason"]})
                continue
            m = ROLL_PROBLEM.search(line)
            if m:  # the roll's line N is the file's line N + 1 (after the header)
                found.append(
                    {
                        "line": int(m["line"]) + 1,
                        "column": "户编码",
                        "reason": m["reason"],
                        "code": m["code"],
                    }
                )
        return found

    def with_retries(self, step: str, path: Path, attempt) -> Path | None:
        """Run ATTEMPT(path); when the ledger refuses lines, take them out (as a county does)
        and try again with the rest. Returns the file that went in, or None."""
        header, rows = read_rows(path)
        current = path
        for round_ in range(40):
            code, out, err = attempt(current)
            if code == 0:
                return current
            probs = self.problems(out + "\n" + err)
            bad = {p["line"] for p in probs if p["line"] >= 2}
            # A roll names its first refused line only: every line of that household goes.
            codes = {p["code"] for p in probs if p.get("code")}
            bad |= {k + 2 for k, r in enumerate(rows) if codes & set(r)}
            if not bad:
                self.failed.append(
                    {"step": step, "file": path.name, "exit": code, "output": (out + err)[-2000:]}
                )
                self.log(f"  ! {step} {path.name}: exit {code}: {(out + err).strip()[-400:]}")
                return None
            reasons = {p["line"]: p for p in probs}
            some = probs[0]
            for line in sorted(bad):
                if line - 2 < len(rows):
                    p = reasons.get(line, some)
                    self.refused.append(
                        {
                            "step": step,
                            "file": path.name,
                            "row": rows[line - 2],
                            "header": header,
                            "column": p["column"],
                            "reason": p["reason"],
                        }
                    )
            rows = [r for k, r in enumerate(rows) if k + 2 not in bad]
            if not rows:
                return None
            current = write_table(self.work / f"{path.stem}-retry{round_}", header, rows, "utf8")
        self.failed.append(
            {"step": step, "file": path.name, "output": "still refused after 40 rounds"}
        )
        return None

    def user(self, who: str, role: str) -> str:
        return f"{who}_{role}"

    # -- steps ------------------------------------------------------------------------------

    def setup(self) -> None:
        ft = self.ft
        ft.run("db", "upgrade")
        pr = self.plan["province"]
        ft.run("key", "new", "--user", "admin", "--out", ft.people / "admin.key")
        ft.run(
            "init",
            "--province-code",
            pr["code"],
            "--province-name",
            pr["name"],
            "--admin",
            "admin",
            "--admin-name",
            "系统管理员",
        )
        ft.run("user", "add", "admin2", "--name", "安全管理员", "--role", "admin", "--region",
               pr["code"], who="admin")
        ft.enrol("admin2", "admin2", "admin")   # the second administrator asks for their own

    def add_users(self) -> None:
        regions = [self.plan["province"]["code"], self.plan["city"]["code"], *self.plan["counties"]]
        for r in regions:
            for role, name in (
                ("clerk", "经办"),
                ("approver", "审核"),
                ("reviewer", "复核"),
                ("auditor", "审计"),
            ):
                _, said, _ = self.ft.run(
                    "user",
                    "add",
                    f"{r}_{role}",
                    "--name",
                    f"{r}{name}",
                    "--role",
                    "approver" if role == "reviewer" else role,
                    "--region",
                    r,
                    who="admin",
                )
                # two administrators: adding a user is a request that the other approves
                # (docs/administration.md); the command prints "request N (user.create …)"
                if said.startswith("request "):
                    self.ft.run("user", "approve", said.split()[1], who="admin2")
                self.ft.enrol(f"{r}_{role}", "admin", "admin2")

    def do_import(self, s: dict) -> None:
        extra = []
        if s.get("source"):
            extra = ["--source", s["source"], "--snapshot", s["snapshot"]]
        who = s["who"]
        self.with_retries(
            f"import {s['kind']}",
            self.folder / s["file"],
            lambda f: self.ft.run("import", s["kind"], f, *extra, who=who, check=False),
        )
        if s["kind"] == "regions":
            self.add_users()

    def do_money(self, s: dict) -> None:
        r = s["who"]
        went = self.with_retries(
            f"import {s['kind']}",
            self.folder / s["file"],
            lambda f: self.ft.run("import", s["kind"], f, who=f"{r}_clerk", check=False),
        )
        if went is None:
            return
        code, out, err = self.ft.run(
            "approve",
            "--file",
            went,
            "--kind",
            s["kind"],
            "--comment",
            "已审核",
            who=f"{r}_approver",
            check=False,
        )
        if code != 0:
            self.failed.append(
                {"step": f"approve {s['kind']}", "file": s["file"], "output": (out + err)[-2000:]}
            )
            self.log(f"  ! approve {s['file']}: {(out + err).strip()[-300:]}")

    def do_advance(self, s: dict) -> None:
        args = ["project", "advance", s["project"], "--to", s["to"], "--date", s["date"]]
        if s.get("doc"):
            args += ["--doc-number", s["doc"]]
        code, out, err = self.ft.run(*args, who=s["who"], check=False)
        if code != 0:
            self.failed.append(
                {"step": f"advance {s['project']} {s['to']}", "output": (out + err)[-800:]}
            )

    def lot_id(self, doc: str) -> int:
        """The lot a document opened: `transfer list --json` names each transfer's lot."""
        if doc not in self.lots:
            _, out, _ = self.ft.run(
                "transfer", "list", "--json", who=f"{self.plan['province']['code']}_auditor"
            )
            for t in json.loads(out):
                key = str(t.get("idempotency_key") or t.get("key") or "")
                lot = t.get("lot_id") or t.get("lot")
                if doc in key and lot is not None:
                    self.lots[doc] = int(lot)
                    break
        return self.lots[doc]

    def bank_answer(
        self,
        code: str,
        sent_file: Path,
        answers: dict,
        value_date: str,
        out: Path,
        fmt: str,
        only: set[str] | None = None,
        later: bool = False,
    ) -> Path | None:
        """The bank's result file for the file it was sent, as `answers` says it went."""
        header, rows = read_rows(sent_file)
        col = {h: k for k, h in enumerate(header)}
        res = []
        n_max = 0
        for r in rows:
            no, hh, head, card, amount = (
                r[col["序号"]],
                r[col["户编码"]],
                r[col["户主姓名"]],
                r[col["银行卡号"]],
                r[col["金额"]],
            )
            holder = r[col["持卡人"]] if "持卡人" in col and r[col["持卡人"]] else head
            n_max = max(n_max, int(no))
            a = answers["households"].get(hh, {})
            if only is not None and hh not in only:
                continue
            if later:
                a = {}
            elif a.get("missing"):
                continue
            fen = round(float(amount.replace(",", "")) * 100)
            sent = fen + a.get("sent_plus", 0)
            ok = a.get("result", "成功") == "成功"
            credited = 0 if not ok else sent - a.get("short", 0)
            acct = a.get("account", card)
            if a.get("account_spaced"):
                acct = " ".join(card[j : j + 4] for j in range(0, len(card), 4))
            res.append(
                [
                    no,
                    hh,
                    f"{sent / 100:.2f}",
                    f"{credited / 100:.2f}",
                    "成功" if ok else "失败",
                    a.get("reason", ""),
                    f"B{code[-7:]}{int(no):05d}",
                    value_date,
                    a.get("name", holder),
                    acct,
                ]
            )
        if not later and only is None:
            for k, e in enumerate(answers.get("extra", [])):
                res.append(
                    [
                        str(n_max + 1 + k),
                        e["household"],
                        f"{e['fen'] / 100:.2f}",
                        f"{e['fen'] / 100:.2f}",
                        "成功",
                        "",
                        f"BX{code[-7:]}{k:03d}",
                        value_date,
                        e["name"],
                        e["account"],
                    ]
                )
        if not res:
            return None
        return write_table(
            out,
            [
                "序号",
                "户编码",
                "金额",
                "入账金额",
                "结果",
                "失败原因",
                "银行流水号",
                "入账日期",
                "收款人户名",
                "收款账号",
            ],
            res,
            fmt,
        )

    def import_bank(self, roll: str, result: Path, county: str) -> None:
        code, out, err = self.ft.run(
            "import-bank-results", result, "--roll", roll, who=f"{county}_approver", check=False
        )
        if code != 0:
            self.failed.append({"step": f"bank results {roll}", "output": (out + err)[-1500:]})
            self.log(f"  ! bank results {roll}: {(out + err).strip()[-300:]}")
            return
        _, out, _ = self.ft.run(
            "roll", "differences", roll, "--json", who=f"{county}_clerk", check=False
        )
        try:
            diffs = json.loads(out)
        except json.JSONDecodeError:
            diffs = []
        for d in diffs:
            if d.get("transfer"):
                self.ft.run(
                    "approve",
                    str(d["transfer"]),
                    "--comment",
                    "银行回盘差异已复核",
                    who=f"{county}_reviewer",
                    check=False,
                )

    def do_roll_create(self, s: dict) -> None:
        c, code = s["county"], s["code"]
        lot = self.lot_id(s["lot"])
        went = self.with_retries(
            f"roll create {code}",
            self.folder / s["file"],
            lambda f: self.ft.run(
                "roll",
                "create",
                code,
                "--lot",
                str(lot),
                "--county",
                c,
                "--function-code",
                "2130505",
                "--use",
                "household_subsidy",
                "--lines",
                f,
                "--project",
                s["project"],
                "--date",
                s["created"],
                who=f"{c}_clerk",
                check=False,
            ),
        )
        if went is not None:
            self.publish(code, c, s["published"])

    def publish(self, code: str, c: str, day: str) -> None:
        r = self.ft.run("roll", "publish", code, "--date", day, who=f"{c}_clerk", check=False)
        if r[0] != 0:
            self.failed.append({"step": f"roll publish {code}", "output": (r[1] + r[2])[-800:]})

    def do_roll_approve(self, s: dict) -> None:
        r = self.ft.run(
            "roll",
            "approve",
            s["code"],
            "--date",
            s["date"],
            who=f"{s['county']}_approver",
            check=False,
        )
        if r[0] != 0:
            self.failed.append(
                {"step": f"roll approve {s['code']}", "output": (r[1] + r[2])[-800:]}
            )

    def do_roll_send(self, s: dict) -> None:
        code = s["code"]
        sent = self.work / f"bank-{code}.csv"
        r = self.ft.run(
            "roll",
            "send",
            code,
            "-o",
            sent,
            "--date",
            s["date"],
            who=f"{s['county']}_clerk",
            check=False,
        )
        if r[0] != 0 or not sent.exists():
            self.failed.append({"step": f"roll send {code}", "output": (r[1] + r[2])[-800:]})
            return
        self.bank_files[code] = sent

    def do_roll_bank(self, s: dict) -> None:
        code = s["code"]
        sent = self.bank_files.get(code)
        if sent is None:
            return
        answers = (
            {"households": {}}
            if not s.get("answers")
            else json.loads((self.folder / s["answers"]).read_text(encoding="utf-8"))
        )
        result = self.bank_answer(
            code,
            sent,
            answers,
            s["value_date"],
            self.work / f"result-{code}",
            s.get("result_format", "gb18030"),
        )
        if result:
            self.import_bank(code, result, s["county"])

    def do_repay(self, s: dict) -> None:
        c, code, new = s["county"], s["roll"], s["new"]
        sent = self.bank_files.get(code)
        if sent is None:
            return
        header, rows = read_rows(sent)
        col = {h: k for k, h in enumerate(header)}
        lines = [r[col["序号"]] for r in rows if r[col["户编码"]] in set(s["households"])]
        args = ["roll", "repay", code, "--new", new, "--date", s["created"]]
        for n in lines:
            args += ["--line", n]
        r = self.ft.run(*args, who=f"{c}_clerk", check=False)
        if r[0] != 0:
            self.failed.append({"step": f"roll repay {code}", "output": (r[1] + r[2])[-800:]})
            self.log(f"  ! repay {code}: {(r[1] + r[2]).strip()[-300:]}")
            return
        self.publish(new, c, s["published"])

    def do_bank_later(self, s: dict) -> None:
        code = s["roll"]
        sent = self.bank_files.get(code)
        if sent is None:
            return
        answers = json.loads((self.folder / s["answers"]).read_text(encoding="utf-8"))
        result = self.bank_answer(
            code,
            sent,
            answers,
            s["value_date"],
            self.work / f"result-{code}-later",
            "gb18030",
            only=set(answers["later"]),
            later=True,
        )
        if result:
            self.import_bank(code, result, code.split("-")[0])

    def do_scan(self, s: dict) -> None:
        auditor = f"{self.plan['province']['code']}_auditor"
        code, out, err = self.ft.run(
            "alerts", "scan", "--as-of", s["as_of"], "--json", who=auditor, check=False
        )
        (self.work / "scan.json").write_text(out, encoding="utf-8")
        if code not in (0, 1):
            self.failed.append({"step": "alerts scan", "output": (out + err)[-2000:]})
        code, out, err = self.ft.run("alerts", "list", "--json", who=auditor, check=False)
        (self.work / "alerts-list.json").write_text(out, encoding="utf-8")

    def load(self) -> dict:
        t0 = time.perf_counter()
        self.setup()
        spent: dict[str, float] = {}
        for k, s in enumerate(self.plan["steps"]):
            t = time.perf_counter()
            getattr(self, f"do_{s['do']}")(s)
            name = s["do"] + (" " + s["kind"] if s.get("kind") else "")
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - t
            if k % 25 == 0:
                self.log(
                    f"  step {k}/{len(self.plan['steps'])} {s['do']} "
                    f"{s.get('kind') or s.get('code') or ''}"
                    f" ({time.perf_counter() - t0:.0f}s)"
                )
        summary = {
            "commands": self.ft.calls,
            "seconds": round(time.perf_counter() - t0, 1),
            "refused_lines": len(self.refused),
            "failed_steps": len(self.failed),
            "seconds_by_step": {
                k: round(v, 1) for k, v in sorted(spent.items(), key=lambda x: -x[1])
            },
        }
        (self.work / "refused.json").write_text(
            json.dumps(self.refused, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        (self.work / "failed.json").write_text(
            json.dumps(self.failed, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        (self.work / "load.json").write_text(json.dumps(summary), encoding="utf-8")
        return summary


def load_province(folder: Path, db_url: str, log=print) -> dict:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 3000))
    return Loader(folder, db_url, log=log).load()
