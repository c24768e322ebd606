"""What every chapter runner shares: parameters, settings with their source, prepared input, results.

A chapter runner (one module per chapter in :mod:`payreform.chapters`) has two functions:

``prepare(data, parameters)``
    reads the data once (the book's synthetic data if ``data`` is None), hashes it once,
    checks it against the chapter's data contract once and derives every default that comes
    from the data. It returns a frozen :class:`PreparedInput` subclass. Every error a user can
    cause is raised here, as a one-line :class:`~payreform.errors.PayreformError`.
``run(prepared)``
    does the analysis and returns a frozen :class:`ChapterResult` subclass with
    ``.estimates()``, ``.diagnostics()``, ``.tables()``, ``.figure(name)``, ``.summary()``,
    ``.glue_values()`` and ``.write(directory)``.

``payreform run`` calls ``prepare`` before starting the notebook and hands the prepared input
to it (a pickle in a scratch folder), so that a run reads, hashes and validates its input once.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from payreform.errors import ParameterError, check_choice, closest

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}
_NONE = {"", "none", "null"}

SOURCE_DEFAULT = "default"
SOURCE_SET = "set"
SOURCE_DATA = "from the data"


@dataclass(frozen=True)
class Parameter:
    """One chapter parameter (a notebook parameter and a ``--set KEY=VALUE`` key).

    ``kind`` is ``str``, ``int``, ``float``, ``bool``, ``list`` (comma-separated) or ``lags``
    (an integer or ``auto``). ``optional`` allows ``none``. ``derived`` says how the value is
    found when it is left at None: such a default comes from the data, and the report marks it
    "from the data".

    Examples
    --------
    >>> Parameter("outcomes", "list", None, "", optional=True).parse("visits, hospitalizations")
    ['visits', 'hospitalizations']
    """

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    optional: bool = False
    derived: str | None = None

    def parse(self, text: str) -> Any:
        """Convert the text of ``--set name=text`` to the parameter's type."""
        raw = text.strip()
        if (self.optional or self.derived) and raw.lower() in _NONE:
            return None
        try:
            if self.kind == "int":
                value: Any = int(raw)
            elif self.kind == "float":
                value = float(raw)
            elif self.kind == "bool":
                if raw.lower() not in _TRUE | _FALSE:
                    raise ValueError
                value = raw.lower() in _TRUE
            elif self.kind == "list":
                value = [part.strip() for part in raw.split(",") if part.strip()]
                if not value:
                    raise ValueError
            elif self.kind == "lags":
                value = "auto" if raw.lower() == "auto" else int(raw)
                if value != "auto" and value < 0:
                    raise ValueError
            else:
                value = raw
        except ValueError:
            expected = {"int": "a whole number", "float": "a number", "bool": "true or false",
                        "list": "a comma-separated list", "lags": "a whole number >= 0 or auto"}
            raise ParameterError(
                f"--set {self.name}={text!r}: expected {expected.get(self.kind, 'text')}"
            ) from None
        if self.choices is not None:
            check_choice(self.name, value, self.choices)
        return value


COMMON_PARAMETERS = (
    Parameter("data", "str", None, "data file (CSV, Excel or Parquet); none = the book's synthetic data",
              optional=True),
    Parameter("sheet", "str", None, "Excel workbooks: the sheet to read; none = the first", optional=True),
)

LANGUAGE_PARAMETER = Parameter("language", "str", "en", "language of report.docx, tables.xlsx and figure labels",
                               choices=("en", "zh"))
"""The deliverables' language (English or Chinese)."""
"""Parameters every chapter has besides its own (``seed`` and ``output_dir`` follow them)."""

RUNTIME_PARAMETERS = (
    Parameter("prepared_input", "str", None,
              "set by `payreform run`: a file holding the input it has already read and checked",
              optional=True),
)
"""Parameters that are not settings of the analysis (not shown by ``payreform chapters``)."""


@dataclass(frozen=True)
class Setting:
    """A parameter's value as used, and where it came from (default, set, from the data)."""

    name: str
    value: Any
    source: str


class Settings(Mapping[str, Any]):
    """The settings of a run: a read-only mapping name -> value that remembers each value's source.

    Examples
    --------
    >>> s = Settings([Setting("year_base", 2008, SOURCE_DATA)])
    >>> s["year_base"], s.source("year_base"), s.derived()
    (2008, 'from the data', ('year_base',))
    """

    def __init__(self, settings: list[Setting]) -> None:
        self._settings = {s.name: s for s in settings}

    def __getitem__(self, name: str) -> Any:
        return self._settings[name].value

    def __iter__(self) -> Iterator[str]:
        return iter(self._settings)

    def __len__(self) -> int:
        return len(self._settings)

    def __repr__(self) -> str:
        return f"Settings({self.values()!r})"

    def source(self, name: str) -> str:
        """``default``, ``set`` or ``from the data``."""
        return self._settings[name].source

    def values(self) -> dict[str, Any]:  # type: ignore[override]
        """Plain dict name -> value (the ``parameters`` block of ``results.json``)."""
        return {name: s.value for name, s in self._settings.items()}

    def derived(self) -> tuple[str, ...]:
        """Names of the settings whose value came from the data."""
        return tuple(name for name, s in self._settings.items() if s.source == SOURCE_DATA)

    def table(self, skip: tuple[str, ...] = ("output_dir", "prepared_input")) -> pd.DataFrame:
        """One row per setting: parameter, value, source (for the report's settings table)."""
        rows = [{"parameter": s.name, "value": _show(s.value), "source": s.source}
                for s in self._settings.values() if s.name not in skip]
        return pd.DataFrame(rows, columns=["parameter", "value", "source"])


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def resolve(parameters: tuple[Parameter, ...], given: Mapping[str, Any], derived: Mapping[str, Any]) -> Settings:
    """Combine the chapter's defaults, the values given and the values derived from the data.

    A value in ``derived`` (the runner puts there what it resolved from the data: a default of
    None or ``auto``, or a value the data force) is ``from the data``; a value given that
    differs from the default is ``set``; anything else is ``default``.
    """
    settings = []
    for p in parameters:
        value = given.get(p.name, p.default)
        if p.name in derived:
            settings.append(Setting(p.name, derived[p.name], SOURCE_DATA))
        elif value != p.default:
            settings.append(Setting(p.name, value, SOURCE_SET))
        else:
            settings.append(Setting(p.name, value, SOURCE_DEFAULT))
    return Settings(settings)


@dataclass(frozen=True)
class PreparedInput:
    """What ``prepare`` hands to ``run``: the settings, the ``data`` block of results.json, and
    (in subclasses) the validated data.

    ``book_data`` is True when the run uses the book's own synthetic data: only then do pages and
    reports speak about the paper and its synthetic world.
    """

    chapter: str
    settings: Settings = field(repr=False)
    data: dict = field(repr=False)

    @property
    def book_data(self) -> bool:
        """True for the book's synthetic data (the paper's voice), False for a user's data."""
        return self.data.get("source") == "synthetic"

    def save(self, path: str | Path) -> Path:
        """Pickle this prepared input (used by ``payreform run`` to hand it to the notebook)."""
        path = Path(path)
        with open(path, "wb") as handle:
            pickle.dump(self, handle, protocol=pickle.HIGHEST_PROTOCOL)
        return path


def load_prepared(path: str | Path, chapter: str) -> PreparedInput:
    """Read a prepared input written by :meth:`PreparedInput.save` and check it is ``chapter``'s."""
    with open(path, "rb") as handle:
        prepared = pickle.load(handle)  # noqa: S301 - written by this package in a private scratch folder
    if not isinstance(prepared, PreparedInput) or prepared.chapter != chapter:
        raise ParameterError(f"prepared_input '{path}' was not written for chapter '{chapter}'")
    return prepared


@dataclass(frozen=True)
class Chapter:
    """A runnable chapter: its notebook, parameters, data contract, ``prepare`` and ``run``."""

    name: str
    title: str
    notebook: str
    study: str
    contract: str
    parameters: tuple[Parameter, ...]
    prepare: Callable[..., PreparedInput] = field(repr=False)
    run: Callable[[PreparedInput], Any] = field(repr=False)
    report_title: str = ""
    """Title of a report on a user's data (the method, without the study's place or years)."""

    def defaults(self) -> dict[str, Any]:
        """Parameter names and default values (the notebook's parameters cell, in order)."""
        return {p.name: p.default for p in self.parameters}

    def settings_parameters(self) -> tuple[Parameter, ...]:
        """The parameters an analyst sets with ``--set`` (not data, output_dir, prepared_input)."""
        return tuple(p for p in self.parameters if p.name not in {"data", "output_dir", "prepared_input"})

    def parameter(self, name: str) -> Parameter:
        """Look up a parameter; unknown names raise :class:`ParameterError` with a suggestion."""
        for p in self.parameters:
            if p.name == name:
                return p
        names = [p.name for p in self.settings_parameters()]
        raise ParameterError(
            f"chapter '{self.name}' has no parameter '{name}'{closest(name, names)}; "
            f"its parameters are {', '.join(names)}"
        )

    def collect(self, namespace: Mapping[str, Any]) -> dict[str, Any]:
        """The chapter's parameters read from a namespace (a notebook's ``globals()``)."""
        return {p.name: namespace[p.name] for p in self.parameters if p.name in namespace}

    def parse_settings(self, settings: list[str]) -> dict[str, Any]:
        """Parse ``KEY=VALUE`` strings into typed values, checking names and types."""
        values: dict[str, Any] = {}
        for item in settings:
            if "=" not in item:
                raise ParameterError(f"--set {item!r}: write it as KEY=VALUE, for example --set seed=2")
            key, text = item.split("=", 1)
            key = key.strip()
            if key in {"data", "output_dir", "prepared_input"}:
                raise ParameterError(f"--set {key}=...: use --data/--out instead")
            values[key] = self.parameter(key).parse(text)
        return values

    def check_names(self, given: Mapping[str, Any]) -> None:
        """Refuse parameter names the chapter does not have (with a suggestion)."""
        for name in given:
            self.parameter(name)

    def notebook_path(self) -> Path:
        """The chapter's jupytext notebook in this checkout."""
        from payreform.published import data_directory

        path = data_directory().parent.parent / "notebooks" / self.notebook
        if not path.exists():
            raise FileNotFoundError(f"notebook {path} not found; run payreform from a clone of the handbook")
        return path


def check_language(language: str) -> None:
    """``language=zh`` needs a font with Chinese characters; say how to get one (one line)."""
    from payreform.plots import chinese_font

    if language == "zh" and chinese_font() is None:
        raise ParameterError(
            "parameter 'language' is zh, but no font with Chinese characters is installed; install one "
            "(Debian: apt-get install fonts-noto-cjk; make does it when run as root) or use language=en"
        )


def load_frame(data: Any, sheet: str | None, synthetic: Callable[[], pd.DataFrame],
               synthetic_info: Mapping[str, Any]) -> tuple[pd.DataFrame, dict]:
    """The chapter's table and the ``data`` block of results.json, read once.

    ``data`` is None (the book's synthetic data, made by ``synthetic()``), a path (read with
    :func:`payreform.io.read_table`) or a DataFrame (a user's data already in memory).
    """
    from payreform.io import read_table
    from payreform.report import frame_sha256

    if data is None:
        frame = synthetic()
        return frame, {"source": "synthetic", **synthetic_info, "rows": len(frame), "sha256": frame_sha256(frame)}
    if isinstance(data, pd.DataFrame):
        return data, {"source": "data frame", "rows": len(data), "sha256": frame_sha256(data)}
    table = read_table(data, sheet=sheet)
    return table.frame, table.info()
