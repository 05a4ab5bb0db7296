"""The agreement file (shared/agreement-file.md): its schema and the errors that name the place."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from storage.limits import KPI_VALUE_LIMIT, in_years

Key = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
Text = Annotated[str, Field(min_length=1, max_length=300)]
# KPI numbers as the columns hold them (Numeric(18, 4)): a 20-digit target from a form or a file
# is refused by name, not failed in PostgreSQL ("numeric field overflow").
KpiNumber = Annotated[Decimal, Field(gt=-KPI_VALUE_LIMIT, lt=KPI_VALUE_LIMIT)]
# Days and moments within storage.limits' years: 9999-12-31 from a form stopped the planner.
Day = Annotated[date, AfterValidator(in_years)]
Moment = Annotated[datetime, AfterValidator(in_years)]


class _Strict(BaseModel):
    # Unknown keys are errors: a typo must not silently drop a field.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrganizationIn(_Strict):
    key: Key
    name: Text
    kind: Literal["municipality", "company", "other"]


class ContactIn(_Strict):
    key: Key
    name: Text
    organization: Key
    email: str | None = None
    active: bool = True
    secretariat: bool = False  # 事務局: sees and edits all of its organization's agreements


class AutoRenewIn(_Strict):
    term_months: int = Field(gt=0, le=120)
    notice_days: int = Field(ge=0, le=3650)


class SideContactsIn(_Strict):
    primary: Key
    secondary: Key | None = None


class CadenceIn(_Strict):
    steering: int | None = Field(default=None, gt=0, le=60)
    working: int | None = Field(default=None, gt=0, le=60)


class KpiEntryIn(_Strict):
    period: Day  # any day of the period; stored as the period's first day
    value: KpiNumber


class KpiIn(_Strict):
    key: Key
    name: Text
    unit: str = ""
    period: Literal["monthly", "quarterly", "yearly"]
    baseline: KpiNumber | None = None
    target: KpiNumber
    target_date: Day | None = None
    direction: Literal["up", "down"] = "up"
    aggregation: Literal["sum", "last"] = "sum"
    entry_due_days: int = Field(default=14, ge=0, le=365)
    entries: list[KpiEntryIn] = Field(default_factory=list)  # past values, e.g. from paper records


class MeetingIn(_Strict):
    key: Key | None = None
    kind: Literal["steering", "working", "other"]
    title: Text
    at: Moment
    place: str | None = None


class ActionItemIn(_Strict):
    key: Key | None = None
    title: Text
    owner: Key | None = None
    due_on: Day
    done: bool = False


Days = Annotated[int, Field(ge=0, le=3650)]


class RemindersIn(_Strict):
    """Per-agreement lead times (days); anything left out keeps the default."""

    meeting_days: list[Days] | None = Field(default=None, max_length=10)
    meeting_business_days: list[Days] | None = Field(default=None, max_length=10)
    kpi_days: list[Days] | None = Field(default=None, max_length=10)
    action_item_days: list[Days] | None = Field(default=None, max_length=10)
    renewal_days: list[Days] | None = Field(default=None, max_length=10)
    review_days: Days | None = None
    cadence_days: Days | None = None
    dormancy_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    nag_limit: Annotated[int, Field(ge=1, le=20)] | None = None
    attention_budget: bool | None = None  # false: every reminder on its own day


class AgreementIn(_Strict):
    key: Key
    title: Text
    parties: list[Key] = Field(min_length=2)
    fields: list[str] = Field(default_factory=list)
    signed_on: Day | None = None
    starts_on: Day
    ends_on: Day
    auto_renew: AutoRenewIn | None = None
    contacts: dict[Key, SideContactsIn]
    meeting_cadence: CadenceIn | None = None
    slack_channel: str | None = None
    line_group: str | None = None
    short_name: Annotated[str, Field(min_length=1, max_length=20)] | None = None  # for choices
    kpis: list[KpiIn] = Field(default_factory=list)
    meetings: list[MeetingIn] = Field(default_factory=list)
    action_items: list[ActionItemIn] = Field(default_factory=list)
    reminders: RemindersIn | None = None  # optional lead-time overrides

    @model_validator(mode="after")
    def _term(self) -> AgreementIn:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class AgreementFile(_Strict):
    organizations: list[OrganizationIn] = Field(default_factory=list)
    contacts: list[ContactIn] = Field(default_factory=list)
    agreements: list[AgreementIn] = Field(default_factory=list)


class AgreementFileError(ValueError):
    """The file is not valid; `problems` lists each one as `place: what is wrong`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses what plain YAML lets through silently: a key written twice in
    one mapping (the last one would win) and a date that does not exist (2028-02-30, which
    PyYAML turns into a ValueError and a traceback)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # <<: *defaults; keys written next to it override, as YAML intends
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: construct_mapping reports it
                duplicate = False
            if duplicate:
                raise _Problem(key_node, f"the key {key!r} appears twice in this mapping")
            if not isinstance(key, list | dict):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> date | datetime:
        try:
            return super().construct_yaml_timestamp(node)  # type: ignore[no-any-return]
        except ValueError:
            raise _Problem(node, f"{node.value} is not a date that exists") from None


_StrictLoader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    _StrictLoader.construct_yaml_timestamp,  # type: ignore[arg-type]
)
_StrictLoader.add_constructor(
    "tag:yaml.org,2002:map",
    lambda loader, node: loader.construct_mapping(node),  # type: ignore[arg-type]
)


class _Problem(yaml.YAMLError):
    def __init__(self, node: yaml.Node, what: str) -> None:
        super().__init__(what)
        self.what = what
        self.line = node.start_mark.line + 1


def parse_agreement_file(text: str) -> AgreementFile:
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except _Problem as exc:
        raise AgreementFileError([f"line {exc.line}: {exc.what}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "file"
        raise AgreementFileError([f"{where}: not valid YAML"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise AgreementFileError(["file: the top level must be a mapping"])
    try:
        return AgreementFile.model_validate(data)
    except ValidationError as exc:
        raise AgreementFileError([_describe(e) for e in exc.errors()]) from None


def place(loc: tuple[int | str, ...]) -> str:
    """('agreements', 1, 'kpis', 0, 'period') -> 'agreements[1].kpis[0].period'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "file"


def _describe(error: Any) -> str:
    loc = tuple(p for p in error["loc"] if not str(p).startswith("function-"))
    kind, value = error["type"], error.get("input")
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", error["ctx"]["expected"])
        return f"{place(loc)}: {value!r} is not one of {', '.join(choices)}"
    if kind == "extra_forbidden":
        return f"{place(loc)}: unknown key"
    if kind == "missing":
        return f"{place(loc)}: is required"
    return f"{place(loc)}: {error['msg'].removeprefix('Value error, ')}"
