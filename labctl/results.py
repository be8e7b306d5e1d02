"""Protocol results: dataclasses whose fields carry their unit, printed as aligned tables.

A protocol returns a :class:`Result` dataclass; each field is declared with
``quantity("T", "coercive field")`` the way parameters are declared with ``param``. The run stores
``result.as_dict()`` (plain JSON values) in the database, and ``labctl run`` / ``labctl show``
print it with :func:`render_result`:

- scalars as one name / value / unit table;
- lists of numbers summarised as ``n values, min…max`` when long;
- dicts of equal-length columns (a series, a trajectory, a map) as a table with one column each,
  or one summary line per column when long;
- lists of records (switching curves, levels) as a table with one column per record.

The unit of a field comes from its declaration; for a run stored before its protocol declared
one, or for keys inside a plain dict, from the end of its name (``hc_T`` is in tesla): the
house rule that names say units makes old runs readable too.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# longest suffix first: "_A_per_m2" before "_A"
SUFFIX_UNITS: tuple[tuple[str, str], ...] = (
    ("_A_per_m2", "A/m²"),
    ("_V_per_s", "V/s"),
    ("_T_per_s", "T/s"),
    ("_ohm", "Ω"),
    ("_pct", "%"),
    ("_Hz", "Hz"),
    ("_T", "T"),
    ("_V", "V"),
    ("_A", "A"),
    ("_J", "J"),
    ("_K", "K"),
    ("_s", "s"),
)
SHORT_LIST = 8  # lists up to this length are printed whole in text mode
SHORT_TABLE = 20  # column tables up to this many rows are printed whole
WIDE_RECORDS = 8  # more records than this: one row per record instead of one column


def quantity(
    unit: str = "",
    help: str = "",
    *,
    default: Any = dataclasses.MISSING,
    parts: Mapping[str, str] | None = None,
    unit_from: str | None = None,
) -> Any:
    """A result field with its unit and a short description.

    ``parts``: units of the keys of a dict-valued field, or of the records of a list-valued one
    (``{"mean": "T", "cv": ""}``); ``"@name"`` stands for the value of the result's field
    ``name``. ``unit_from``: the name of the field whose value is this field's unit (a drive
    that is a field, a voltage or a time depending on the mode).
    """
    meta = {"unit": unit, "help": help, "parts": dict(parts or {}), "unit_from": unit_from}
    if isinstance(default, list | dict):
        return dataclasses.field(default_factory=lambda: default.copy(), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


class Result:
    """Base of protocol result dataclasses: :meth:`as_dict` gives what the database stores."""

    def as_dict(self) -> dict[str, Any]:
        return plain({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Any:
        """The result from a mapping of its fields (unknown keys refused with their names)."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(values) - names)
        if unknown:
            raise TypeError(f"{cls.__name__}: unknown result field(s) {', '.join(unknown)}")
        return cls(**values)


def plain(value: Any) -> Any:
    """JSON-ready values: numpy arrays and scalars become lists and Python numbers, dataclasses
    dicts, tuples lists; dict keys become strings. NaN stays NaN (the database keeps it;
    :func:`strict` turns it into ``null`` for JSON output)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if isinstance(value, Result):
            return value.as_dict()
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return plain(value.tolist())
    return value


def strict(value: Any) -> Any:
    """Strict JSON values: NaN and ±inf (undefined statistics) become ``null``, keys strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return strict(plain(value))
    if hasattr(value, "tolist"):
        return strict(value.tolist())
    return value


def typed(result_type: type | None, values: Mapping[str, Any]) -> Any:
    """A stored result (:meth:`Result.as_dict`'s plain values) back as its declared dataclass,
    nested result dataclasses included (a field holding one, or a list of them). ``values``
    as they are when there is no declared type, or when they do not fit it (a run that ended
    before its result existed, a result stored by an older version of its protocol)."""
    if result_type is None or not dataclasses.is_dataclass(result_type):
        return dict(values)
    docs = describe_result(result_type)
    converted: dict[str, Any] = {}
    for name, value in values.items():
        nested = docs[name].nested if name in docs else None
        if nested is not None and isinstance(value, Mapping):
            value = typed(nested, value)
        elif nested is not None and _is_records(value):
            value = [typed(nested, v) for v in value]
        converted[name] = value
    try:
        return result_type(**converted)
    except TypeError:  # missing or unknown fields
        return dict(values)


# ------------------------------------------------------------------------ field descriptions
@dataclass(frozen=True)
class FieldDoc:
    unit: str = ""
    help: str = ""
    parts: Mapping[str, str] = dataclasses.field(default_factory=dict)
    unit_from: str | None = None
    nested: type | None = None  # a Result type held by the field (alone or in a list)


def unit_of_name(name: str) -> str:
    """The unit a name says by its suffix (``hold_s`` → s), "" if it says none."""
    for suffix, unit in SUFFIX_UNITS:
        if name.endswith(suffix):
            return unit
    return ""


def result_type_of(function: Callable[..., Any]) -> type | None:
    """The dataclass a protocol function declares it returns (None for a plain dict)."""
    try:
        hint = typing.get_type_hints(function).get("return")
    except Exception:  # an unresolvable annotation: render without declared units
        return None
    return hint if isinstance(hint, type) and dataclasses.is_dataclass(hint) else None


def describe_result(result_type: type | None) -> dict[str, FieldDoc]:
    """Unit and description of each field of a result dataclass."""
    if result_type is None or not dataclasses.is_dataclass(result_type):
        return {}
    try:
        hints = typing.get_type_hints(result_type)
    except Exception:
        hints = {}
    docs = {}
    for f in dataclasses.fields(result_type):
        m = f.metadata
        docs[f.name] = FieldDoc(
            unit=m.get("unit", unit_of_name(f.name)),
            help=m.get("help", ""),
            parts=m.get("parts") or {},
            unit_from=m.get("unit_from"),
            nested=_nested_type(hints.get(f.name)),
        )
    return docs


def _nested_type(hint: Any) -> type | None:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return hint
    for arg in typing.get_args(hint):
        found = _nested_type(arg)
        if found is not None:
            return found
    return None


# ------------------------------------------------------------------------ text rendering
def fmt_number(value: Any) -> str:
    """A value as a table cell: 5 significant digits, ``nan`` for undefined, ``-`` for None."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.5g}"
    if isinstance(value, int):
        return str(value)
    return str(value)


def fmt_uncertain(value: float, error: float) -> str:
    """``0.0650 ± 0.0018``: the uncertainty with 2 significant digits and the value to the same
    decimal place (``fmt_number`` of the value when the uncertainty is not finite or 0)."""
    if not (math.isfinite(value) and math.isfinite(error)) or error <= 0:
        return fmt_number(float(value))
    exponent = math.floor(math.log10(error)) - 1  # the place of the 2nd significant digit
    magnitude = math.floor(math.log10(abs(value))) if value else exponent
    if magnitude - exponent + 1 > 6:  # an uncertainty far below the value: 6 digits at most
        return f"{value:.6g} ± {error:.2g}"
    if abs(value) >= 1e5 or 0 < abs(value) < 1e-3:
        # scientific: the value's mantissa to the uncertainty's place
        digits = max(magnitude - exponent, 1)
        return f"{value:.{digits}e} ± {error:.1e}"
    places = max(-exponent, 0)
    return f"{round(value, -exponent):.{places}f} ± {round(error, -exponent):.{places}f}"


def summarise(values: Sequence[Any]) -> str:
    """``n values, min…max`` of a (possibly nested) list of numbers; NaNs are counted apart."""
    flat = list(_flatten(values))
    numbers = [v for v in flat if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) != len(flat):  # strings or mixed: just count them
        return f"{len(flat)} values"
    finite = [float(v) for v in numbers if v is not None and math.isfinite(float(v))]
    text = f"{len(flat)} values"
    if finite:
        text += f", {fmt_number(min(finite))}…{fmt_number(max(finite))}"
    if len(finite) < len(numbers):
        text += f" ({len(numbers) - len(finite)} nan)"
    return text


def _flatten(values: Any) -> Any:
    for v in values:
        if isinstance(v, list | tuple):
            yield from _flatten(v)
        else:
            yield float("nan") if v is None else v


def _cell(value: Any) -> str:
    if isinstance(value, str) and not value.strip():
        return "-"
    if isinstance(value, list | tuple):
        if len(value) <= SHORT_LIST and all(not isinstance(v, list | dict) for v in value):
            return ", ".join(fmt_number(v) for v in value) or "none"
        return summarise(value)
    if isinstance(value, Mapping):
        return f"{len(value)} fields" if value else "none"
    return fmt_number(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Aligned columns; numeric columns right-aligned."""
    if not rows:
        return []
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    numeric = [all(_looks_numeric(r[i]) for r in rows) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        ]
        return (indent + "  ".join(parts)).rstrip()

    return [line(headers), *(line(r) for r in rows)]


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text in ("-", "nan")
    return True


def _with_unit(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit else name


def _is_columns(value: Mapping[str, Any]) -> bool:
    lists = [v for v in value.values() if isinstance(v, list | tuple)]
    return bool(lists) and len(lists) == len(value) and len({len(v) for v in lists}) == 1


def _is_records(value: Any) -> bool:
    return bool(value) and isinstance(value, list) and all(isinstance(v, Mapping) for v in value)


def render_result(
    result: Mapping[str, Any], result_type: type | None = None, indent: str = "  "
) -> list[str]:
    """Text lines for a stored result (``result_type``: its declared dataclass, for units)."""
    docs = describe_result(result_type)
    scalars: list[list[str]] = []
    sections: list[str] = []
    parallel = _parallel_lists(result)
    if parallel:  # lists of one length: one table, a row per element
        headers = [_with_unit(k, _unit_of_field(k, docs, result)) for k in parallel]
        n = len(result[parallel[0]])
        rows = [[fmt_number(result[k][i]) for k in parallel] for i in range(n)]
        sections += [f"{indent}{', '.join(parallel)}:", *table(headers, rows, indent * 2)]
    errors = error_partners(result)
    for name, value in result.items():
        if name in parallel or name in errors.values():
            continue
        doc = docs.get(name) or FieldDoc(unit=unit_of_name(name))
        unit = str(result.get(doc.unit_from, "")) if doc.unit_from else doc.unit
        if isinstance(value, Mapping) and value:
            sections += _render_mapping(name, value, unit, doc, indent)
        elif _is_records(value):
            parts = {k: _resolve(u, result) for k, u in doc.parts.items()}
            sections += _render_records(name, value, dataclasses.replace(doc, parts=parts), indent)
        elif isinstance(value, list) and value and isinstance(value[0], list):
            columns = {k: _resolve(u, result) for k, u in doc.parts.items()}
            sections += _render_matrix(name, value, unit, columns, indent)
        else:
            cell = _with_error(value, result[errors[name]]) if name in errors else _cell(value)
            scalars.append([name, cell, unit])
    lines = table(["quantity", "value", "unit"], scalars, indent) if scalars else []
    return lines + sections


ERROR_TAGS = ("_err", "_sem", "_unc")  # delta_err, H0_err_T, hc_sem_T: an uncertainty


def _is_number(v: Any) -> bool:
    return v is None or (isinstance(v, int | float) and not isinstance(v, bool))


def error_partners(values: Mapping[str, Any]) -> dict[str, str]:
    """``{quantity: its uncertainty}`` among numeric ``values``: ``delta`` and ``delta_err``,
    ``H0_T`` and ``H0_err_T`` (the tag before the unit suffix), printed as ``62.4 ± 6.3``."""
    number = _is_number

    partners: dict[str, str] = {}
    for name, value in values.items():
        if not number(value):
            continue
        suffix = next((sfx for sfx, _ in SUFFIX_UNITS if name.endswith(sfx)), "")
        base = name[: len(name) - len(suffix)] if suffix else name
        for tag in ERROR_TAGS:
            for candidate in (f"{base}{tag}{suffix}", f"{name}{tag}"):
                if candidate != name and candidate in values and number(values[candidate]):
                    partners[name] = candidate
                    break
            if name in partners:
                break
    return partners


def _with_error(value: Any, error: Any) -> str:
    """``62.4 ± 6.3``; an undefined uncertainty as ``± nan`` (the fit gave none)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return fmt_number(value)
    if error is None or not math.isfinite(float(error)) or float(error) <= 0:
        return f"{fmt_number(value)} ± {fmt_number(error)}"
    return fmt_uncertain(float(value), float(error))


def _parallel_lists(result: Mapping[str, Any]) -> list[str]:
    """The fields that are flat lists of one length (2 to ``SHORT_TABLE`` elements), when
    there are at least two of them: a retention's hold times, Hc and amplitudes."""
    by_length: dict[int, list[str]] = {}
    for name, value in result.items():
        if (
            isinstance(value, list | tuple)
            and 2 <= len(value) <= SHORT_TABLE
            and not any(isinstance(v, list | tuple | Mapping) for v in value)
        ):
            by_length.setdefault(len(value), []).append(name)
    groups = [names for names in by_length.values() if len(names) >= 2]
    return max(groups, key=len) if groups else []


def _unit_of_field(name: str, docs: Mapping[str, FieldDoc], result: Mapping[str, Any]) -> str:
    doc = docs.get(name) or FieldDoc(unit=unit_of_name(name))
    return str(result.get(doc.unit_from, "")) if doc.unit_from else doc.unit


def _resolve(unit: str, result: Mapping[str, Any]) -> str:
    return str(result.get(unit[1:], "")) if unit.startswith("@") else unit


def _render_mapping(
    name: str, value: Mapping[str, Any], unit: str, doc: FieldDoc, indent: str
) -> list[str]:
    def unit_of(key: str) -> str:
        return doc.parts.get(key, unit_of_name(key) or (unit if key in _SAME_UNIT else ""))

    head = f"{indent}{name}:" + (f" {doc.help}" if doc.help else "")
    if _is_columns(value):
        keys = list(value)
        n = len(value[keys[0]])
        if n <= SHORT_TABLE:
            # a column and its uncertainty (hc_T, hc_sem_T) in one: 0.0240 ± 0.0006
            numeric = {k: 0.0 for k in keys if all(_is_number(v) for v in value[k])}
            errors = error_partners(numeric)
            shown = [k for k in keys if k not in errors.values()]

            def cell(k: str, i: int) -> str:
                v = value[k][i]
                return _with_error(v, value[errors[k]][i]) if k in errors else fmt_number(v)

            headers = [_with_unit(k, unit_of(k)) for k in shown]
            rows = [[cell(k, i) for k in shown] for i in range(n)]
            return [head, *table(headers, rows, indent * 2)]
        rows = [[k, summarise(value[k]), unit_of(k)] for k in keys]
        return [head, *table(["column", "values", "unit"], rows, indent * 2)]
    nested = (
        render_result(value, doc.nested, indent * 2)
        if doc.nested
        else _render_plain_mapping(value, unit_of, indent * 2)
    )
    return [head, *nested]


# statistics of a quantity share its unit (a spread of hc_T: mean, std, min, max in T)
_SAME_UNIT = frozenset({"mean", "std", "min", "max", "median", "initial", "final"})


def _render_plain_mapping(
    value: Mapping[str, Any], unit_of: Callable[[str], str], indent: str
) -> list[str]:
    rows, sections = [], []
    errors = error_partners(value)
    for key, v in value.items():
        if key in errors.values():
            continue
        if isinstance(v, Mapping) and v:
            sections += _render_mapping(key, v, "", FieldDoc(), indent)
        else:
            cell = _with_error(v, value[errors[key]]) if key in errors else _cell(v)
            rows.append([key, cell, unit_of(key)])
    return table(["quantity", "value", "unit"], rows, indent) + sections


def _render_records(
    name: str, records: list[Mapping[str, Any]], doc: FieldDoc, indent: str
) -> list[str]:
    """One column per record (few records, many fields), else one row per record."""
    docs = describe_result(doc.nested)
    flat = [_flat_record(r) for r in records]
    keys: list[str] = []
    for r in flat:
        keys += [k for k in r if k not in keys]

    def unit_of(key: str) -> str:
        d = docs.get(key)
        if d is not None:
            return d.unit
        return doc.parts.get(key, unit_of_name(key.rsplit(".", 1)[-1]))

    head = f"{indent}{name}: {len(records)} " + ("record" if len(records) == 1 else "records")
    head += f" ({doc.help})" if doc.help else ""
    if len(records) <= WIDE_RECORDS:
        labels = [str(r.get("label", f"[{i}]")) for i, r in enumerate(records)]
        # a quantity and its uncertainty on one row when every record has both
        errors = {k: e for k, e in error_partners(flat[0]).items()
                  if all(k in r and e in r for r in flat)}  # fmt: skip
        shown = [k for k in keys if k != "label" and k not in errors.values()]

        def cell(r: Mapping[str, Any], k: str) -> str:
            return _with_error(r[k], r[errors[k]]) if k in errors else _cell(r.get(k, ""))

        rows = [[k, unit_of(k), *(cell(r, k) for r in flat)] for k in shown]
        return [head, *table(["quantity", "unit", *labels], rows, indent * 2)]
    headers = [_with_unit(k, unit_of(k)) for k in keys]
    rows = [[_cell(r.get(k, "")) for k in keys] for r in flat]
    return [head, *table(headers, rows, indent * 2)]


def _flat_record(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in record.items():
        if isinstance(v, Mapping):
            out.update(_flat_record(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def _render_matrix(
    name: str, rows: list[list[Any]], unit: str, columns: Mapping[str, str], indent: str
) -> list[str]:
    """A list of rows: a small matrix as a table (``columns``: the name and unit of each
    column, e.g. the pairs of a list of (level, x50)), a large one summarised."""
    width = max(len(r) for r in rows)
    head = f"{indent}{name}" + (f" ({unit})" if unit else "") + f": {len(rows)} × {width}"
    if len(rows) > SHORT_TABLE or width > SHORT_LIST + 4:
        return [f"{head}, {summarise(rows)}"]
    if len(columns) == width:
        headers = [_with_unit(k, u) for k, u in columns.items()]
        return [head, *table(headers, [[fmt_number(v) for v in r] for r in rows], indent * 2)]
    body = [[str(i), *(fmt_number(v) for v in r)] for i, r in enumerate(rows)]
    return [head, *table(["", *(str(j) for j in range(width))], body, indent * 2)]
