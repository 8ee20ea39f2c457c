"""A provider's static key set in the configuration file: ``static_keys`` or ``static_keys_file``.

``static_keys`` is the JWK Set itself, written as a YAML mapping (``keys:`` and a list of public
JWKs) or as a JSON string; ``static_keys_file`` is the path of a JSON file holding one, relative
to the configuration file's directory. A provider has at most one of them. Either way the set is
checked here, when the file is read (:func:`webfed.jwks.static.check_static_key_set`), and kept
as canonical JSON text, which is what is stored, compared by the planner and exported (always
inline: the stored set does not remember the file it came from).

Storing and reading the set are webfed's own administrator-only operations, named below: IAM's
wire has no such member.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from webfed.declarative.fields import Reader, TextRule
from webfed.jwks.static import MAX_STATIC_KEY_SET_BYTES, StaticKeySetError, check_static_key_set

__all__ = ["GET_STATIC_KEYS", "SET_STATIC_KEYS", "STATIC_KEY_FIELDS", "read_static_keys"]

SET_STATIC_KEYS = "SetOpenIDConnectProviderStaticKeys"
GET_STATIC_KEYS = "GetOpenIDConnectProviderStaticKeys"
STATIC_KEY_FIELDS = frozenset({"static_keys", "static_keys_file"})
_PATH = TextRule(1, 4096)


def read_static_keys(
    reader: Reader,
    fields: dict[str, yaml.Node],
    where: str,
    url: str | None,
    base_dir: Path | None,
) -> tuple[bool, str | None]:
    """``(ok, canonical text or None)``; a problem is reported for each thing wrong."""
    if "static_keys" in fields and "static_keys_file" in fields:
        reader.report(
            "give static_keys or static_keys_file, not both", fields["static_keys"], where
        )
        return False, None
    if "static_keys" in fields:
        location = f"{where}.static_keys"
        document = _inline(reader, fields["static_keys"], location)
    elif "static_keys_file" in fields:
        location = f"{where}.static_keys_file"
        document = _from_file(reader, fields["static_keys_file"], location, base_dir)
    else:
        return True, None
    if document is None:
        return False, None
    node = fields.get("static_keys") or fields["static_keys_file"]
    try:
        return True, check_static_key_set(document)
    except StaticKeySetError as error:
        subject = f"provider {url}" if url else "this provider"
        reader.report(f"the static key set of {subject} is refused: {error}", node, location)
        return False, None


def _inline(reader: Reader, node: yaml.Node, where: str) -> object | None:
    if isinstance(node, yaml.MappingNode):
        before = len(reader.problems)
        value = reader.json(node, where)
        return value if len(reader.problems) == before else None
    text = reader.scalar(node, where)
    if not isinstance(text, str):
        reader.report("must be a JWK Set: a mapping {keys: [...]} or a JSON string", node, where)
        return None
    return _parse(reader, text, node, where)


def _from_file(reader: Reader, node: yaml.Node, where: str, base_dir: Path | None) -> object | None:
    name = reader.text(node, where, _PATH)
    if name is None:
        return None
    path = Path(name).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        with path.open("rb") as file:
            data = file.read(MAX_STATIC_KEY_SET_BYTES + 1)
    except OSError as error:
        reader.report(f"cannot read {str(path)!r}: {error.strerror or error}", node, where)
        return None
    if len(data) > MAX_STATIC_KEY_SET_BYTES:
        reader.report(f"{str(path)!r} is larger than {MAX_STATIC_KEY_SET_BYTES} bytes", node, where)
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        reader.report(f"{str(path)!r} is not UTF-8 text", node, where)
        return None
    return _parse(reader, text, node, where)


def _parse(reader: Reader, text: str, node: yaml.Node, where: str) -> object | None:
    """JSON text to a value; the error says where it stops, never what the text holds."""
    try:
        value: object = json.loads(text)
    except json.JSONDecodeError as error:
        reader.report(
            f"the static key set is not JSON ({error.msg} at line {error.lineno} column "
            f"{error.colno})",
            node,
            where,
        )
    except (ValueError, RecursionError):
        reader.report("the static key set is not JSON", node, where)
    else:
        return value
    return None
