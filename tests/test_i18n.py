"""The catalog: every string in both languages, with the same format fields."""

import ast
import pathlib

import pytest

from core.i18n import CATALOG, LANGUAGES, format_fields, translate

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_entry_has_both_languages_with_the_same_fields(key):
    entry = CATALOG[key]
    assert set(entry) == set(LANGUAGES), key
    assert all(text.strip() for text in entry.values()), key
    assert format_fields(entry["en"]) == format_fields(entry["zh"]), key


def test_translate_formats_and_falls_back():
    assert translate("sidebar.device", "zh", device="CPU") == "计算设备：CPU"
    assert translate("sidebar.device", "xx", device="CPU") == "Computing on: CPU"
    with pytest.raises(KeyError):
        translate("no.such.key", "en")


def _literal_keys_used_in_sources():
    """Keys passed as string literals to tr(...) anywhere in the app."""
    keys = set()
    for path in [ROOT / "app.py", *(ROOT / "pages").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "tr"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                keys.add((path.name, node.args[0].value))
    return keys


def test_every_key_used_by_the_app_exists():
    missing = sorted(
        f"{name}: {key}" for name, key in _literal_keys_used_in_sources() if key not in CATALOG
    )
    assert not missing, missing
