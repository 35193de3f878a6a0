"""Signed models: OpenSSF model signing (``model-signing``) and sigstore bundles, checked offline.

A model signed with the ``model-signing`` package carries a sigstore bundle (``model.sig`` by
default) whose DSSE envelope holds an in-toto statement: the predicate
``https://model_signing/signature/v1.0`` lists every file (or file shard) with its digest, and the
subject digest is the SHA-256 over those digests. A blob signed with ``sigstore sign`` carries a
``<file>.sigstore.json`` bundle with the file's digest.

:func:`verify_model_signature` does two things, both without the network:

* **Integrity.** The bundle is parsed here (bounded, never trusted beyond its structure) and the
  digests of the model's files are recomputed, streamed, only for the files it names (extra and
  missing files are told apart by name). Files that changed, went missing or appeared are
  ``signing.mismatch`` (MALICIOUS, CRITICAL: a signed model whose files no longer match) unless
  all of them are documentation or images (``signing.mismatch-docs``, SUSPICIOUS, LOW).
* **Signature.** With a public key (or a certificate chain) configured, the signature is checked
  with ``model-signing``'s own verifiers, imported only then. A bundle signed by another key is
  ``signing.untrusted-key``; a bundle whose signature does not verify under the right key was
  altered: ``signing.invalid-signature``. Without a trust root, keyless sigstore verification
  would need the network, so the result says so as a fact, not a finding.

A bundle that cannot be parsed is ``signing.malformed`` and a model that cannot be hashed
(unknown algorithm, over the byte budget) is ``signing.unverifiable``, both UNSCANNABLE.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import importlib
import io
import json
import os
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from aispm.analysis.artifact_report import FormatResult, Issue, Verdict
from aispm.model import JSON, Severity

MAX_BUNDLE_BYTES = 32 * 1024 * 1024
MAX_RESOURCES = 500_000
MAX_MODEL_FILES = 100_000
_MAX_LISTED = 64
_CHUNK = 1024 * 1024

PREDICATE_V1 = "https://model_signing/signature/v1.0"
PREDICATE_V01 = "https://model_signing/Digests/v0.1"
_STATEMENT_TYPES = ("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1")
_IN_TOTO_PAYLOAD = "application/vnd.in-toto+json"
#: Paths model-signing leaves out of every manifest unless told otherwise.
_GIT_PATHS = (".git", ".gitattributes", ".github", ".gitignore")
_SIGNATURE_SUFFIXES = (".sigstore.json", ".sigstore", ".sig")
_INERT = re.compile(
    r"(^|/)(readme|license|licence|notice|copying|changelog)[^/]*$|\.(md|rst|png|jpe?g|gif|svg|webp)$|"
    r"(^|/)(\.ds_store|thumbs\.db)$",
    re.IGNORECASE,
)
_SHARDED = re.compile(r"^(sha256|blake2b)-sharded-(\d{1,15})$")
# Fulcio certificate extensions naming the OIDC issuer (v2 is DER-encoded, v1 raw).
_FULCIO_ISSUER_V2 = "1.3.6.1.4.1.57264.1.8"
_FULCIO_ISSUER_V1 = "1.3.6.1.4.1.57264.1.1"

#: Returns the hex SHA-256 of a whole file: the caller's cached, streamed hash.
HashFile = Callable[[Path], str]


class _Malformed(ValueError):
    """The bundle or its statement is not what a signer writes."""


@dataclass
class SignedManifest:
    """What a bundle claims, before anything is verified.

    ``format`` is ``model-signing/v1.0``, ``model-signing/v0.1``, ``in-toto`` (another predicate:
    its subjects are taken as files) or ``sigstore-blob`` (a message signature over one file).
    ``resources`` maps each identifier (a POSIX path relative to the model, or ``path:start:end``
    for shards; ``.`` when the model is one file) to its hex digest. ``hash_type`` is ``sha256``,
    ``blake2b`` or ``blake3``; ``shard_size`` is set for sharded manifests.
    """

    format: str
    model_name: str | None
    hash_type: str
    resources: dict[str, str]
    shard_size: int | None = None
    ignore_paths: tuple[str, ...] = ()
    root_digest: str | None = None
    envelope_payload: bytes | None = None
    material: Mapping[str, Any] = field(default_factory=dict)


def find_signatures(directory: Path, *, max_entries: int = 10_000) -> list[Path]:
    """Signature bundles in ``directory`` (not below it): ``*.sig`` holding JSON, ``*.sigstore(.json)``."""
    found: list[Path] = []
    try:
        with os.scandir(directory) as it:
            for i, entry in enumerate(it):
                if i >= max_entries:
                    break
                name = entry.name.lower()
                if not name.endswith(_SIGNATURE_SUFFIXES) or not entry.is_file():
                    continue
                if name.endswith(".sig") and not _starts_like_json(Path(entry.path)):
                    continue  # a detached GPG or raw signature: not a sigstore bundle
                found.append(Path(entry.path))
    except OSError:
        return []
    return sorted(found)


def _starts_like_json(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError:
        return False
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def read_bundle(signature: Path) -> SignedManifest:
    """Parse the bundle at ``signature``; raises ``ValueError`` with the reason when malformed."""
    try:
        with open(signature, "rb") as fh:
            raw = fh.read(MAX_BUNDLE_BYTES + 1)
    except OSError as exc:
        raise _Malformed(f"cannot read the bundle: {exc.strerror or exc}") from exc
    if len(raw) > MAX_BUNDLE_BYTES:
        raise _Malformed(f"bundle over {MAX_BUNDLE_BYTES} bytes")
    try:
        bundle = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _Malformed(f"bundle is not JSON ({type(exc).__name__})") from exc
    if not isinstance(bundle, dict):
        raise _Malformed("bundle is not a JSON object")
    material = bundle.get("verificationMaterial")
    material = material if isinstance(material, dict) else {}
    envelope = bundle.get("dsseEnvelope")
    if isinstance(envelope, dict):
        manifest = _from_envelope(envelope)
    elif isinstance(bundle.get("messageSignature"), dict):
        manifest = _from_message(bundle["messageSignature"], signature)
    else:
        raise _Malformed("bundle has neither a DSSE envelope nor a message signature")
    manifest.material = material
    return manifest


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise _Malformed(f"{what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _Malformed(f"{what} is not valid base64") from exc


def _from_envelope(envelope: Mapping[str, Any]) -> SignedManifest:
    if envelope.get("payloadType") != _IN_TOTO_PAYLOAD:
        raise _Malformed(f"DSSE payload type is {str(envelope.get('payloadType'))[:80]!r}, not in-toto")
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise _Malformed("DSSE envelope has no signature")
    payload = _b64(envelope.get("payload"), "DSSE payload")
    try:
        statement = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _Malformed("DSSE payload is not JSON") from exc
    if not isinstance(statement, dict) or statement.get("_type") not in _STATEMENT_TYPES:
        raise _Malformed("DSSE payload is not an in-toto statement")
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise _Malformed("in-toto statement has no subject")
    predicate_type = statement.get("predicateType")
    if predicate_type == PREDICATE_V1:
        manifest = _v1(statement, subjects)
    else:
        manifest = _subjects_as_files(subjects, PREDICATE_V01 if predicate_type == PREDICATE_V01 else None)
    manifest.envelope_payload = payload
    return manifest


def _v1(statement: Mapping[str, Any], subjects: list[Any]) -> SignedManifest:
    if len(subjects) != 1 or not isinstance(subjects[0], dict):
        raise _Malformed("model-signing statement must have exactly one subject")
    digest = subjects[0].get("digest")
    root = digest.get("sha256") if isinstance(digest, dict) else None
    predicate = statement.get("predicate")
    if not isinstance(predicate, dict):
        raise _Malformed("model-signing statement has no predicate")
    serialization = predicate.get("serialization")
    resources = predicate.get("resources")
    if not isinstance(serialization, dict) or not isinstance(resources, list):
        raise _Malformed("predicate lacks serialization or resources")
    if len(resources) > MAX_RESOURCES:
        raise _Malformed(f"more than {MAX_RESOURCES} resources")
    method = serialization.get("method")
    hash_type = serialization.get("hash_type")
    if method not in ("files", "shards") or not isinstance(hash_type, str):
        raise _Malformed(f"unknown serialization method {str(method)[:40]!r}")
    shard_size: int | None = None
    if method == "shards":
        size = serialization.get("shard_size")
        # The statement goes through a protobuf Struct, where every number is a double.
        if isinstance(size, float) and size.is_integer():
            size = int(size)
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise _Malformed("sharded serialization without a positive shard_size")
        shard_size = size
    ignore = serialization.get("ignore_paths", [])
    ignore_paths = tuple(str(p) for p in ignore[:10_000]) if isinstance(ignore, list) else ()
    items: dict[str, str] = {}
    roll = hashlib.sha256()
    for res in resources:
        if not isinstance(res, dict):
            raise _Malformed("a resource is not an object")
        name, value = res.get("name"), res.get("digest")
        if not isinstance(name, str) or not isinstance(value, str):
            raise _Malformed("a resource lacks a name or digest")
        try:
            roll.update(bytes.fromhex(value))
        except ValueError as exc:
            raise _Malformed(f"digest of {name[:80]!r} is not hex") from exc
        items[name] = value.lower()
    if not isinstance(root, str) or roll.hexdigest() != root.lower():
        # model-signing refuses such a statement too: the resources were edited after signing.
        raise _Malformed("subject digest does not match the resources listed (statement altered)")
    name = subjects[0].get("name")
    return SignedManifest(
        format="model-signing/v1.0",
        model_name=name[:200] if isinstance(name, str) else None,
        hash_type=_hash_name(hash_type),
        resources=items,
        shard_size=shard_size,
        ignore_paths=ignore_paths,
        root_digest=root.lower(),
    )


def _subjects_as_files(subjects: list[Any], predicate: str | None) -> SignedManifest:
    if len(subjects) > MAX_RESOURCES:
        raise _Malformed(f"more than {MAX_RESOURCES} subjects")
    items: dict[str, str] = {}
    for subject in subjects:
        digest = subject.get("digest") if isinstance(subject, dict) else None
        name = subject.get("name") if isinstance(subject, dict) else None
        value = digest.get("sha256") if isinstance(digest, dict) else None
        if (
            not isinstance(name, str)
            or not isinstance(value, str)
            or not re.fullmatch(r"[0-9a-fA-F]{64}", value)
        ):
            raise _Malformed("a subject lacks a name or a sha256 digest")
        items[name] = value.lower()
    return SignedManifest(
        format="model-signing/v0.1" if predicate else "in-toto",
        model_name=None,
        hash_type="sha256",
        resources=items,
    )


def _from_message(message: Mapping[str, Any], signature: Path) -> SignedManifest:
    digest = message.get("messageDigest")
    if not isinstance(digest, dict) or digest.get("algorithm") != "SHA2_256":
        raise _Malformed("message signature without a SHA2_256 digest")
    value = _b64(digest.get("digest"), "message digest")
    if len(value) != 32:
        raise _Malformed("message digest is not 32 bytes")
    _b64(message.get("signature"), "message signature")
    target = signed_file_name(signature)
    if target is None:
        raise _Malformed("cannot tell which file a message signature signs from its name")
    return SignedManifest(
        format="sigstore-blob", model_name=target, hash_type="sha256", resources={target: value.hex()}
    )


def signed_file_name(signature: Path) -> str | None:
    """``model.safetensors`` for ``model.safetensors.sigstore.json`` (a blob bundle's naming), else None."""
    name = signature.name
    for suffix in _SIGNATURE_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def _hash_name(hash_type: str) -> str:
    return {"sha256": "sha256", "blake2": "blake2b", "blake2b": "blake2b", "blake3": "blake3"}.get(
        hash_type, hash_type[:40]
    )


def signed_model_path(signature: Path) -> Path | None:
    """The model a bundle signs: the file a blob bundle is named after, a sibling folder named like the
    signed model, or the bundle's own folder. None when the bundle cannot be read."""
    try:
        manifest = read_bundle(signature)
    except ValueError:
        return None
    folder = signature.parent
    if manifest.format == "sigstore-blob":
        return folder / manifest.model_name if manifest.model_name else None
    name = manifest.model_name
    sibling = bool(name) and name not in (".", "..") and "/" not in str(name)
    if (
        sibling
        and (folder / str(name)).is_dir()
        and (folder.name != name or not _names_present(folder, manifest))
    ):
        return folder / str(name)
    return folder


def _names_present(folder: Path, manifest: SignedManifest) -> bool:
    return any((folder / _file_of(i, manifest)).exists() for i in list(manifest.resources)[:8])


# --- verification --------------------------------------------------------------------------------


def verify_model_signature(
    model_dir: Path,
    signature: Path,
    *,
    public_key: Path | None = None,
    certificate_chain: Sequence[Path] = (),
    hash_file: HashFile | None = None,
    max_bytes: int | None = None,
) -> FormatResult:
    """Check the model at ``model_dir`` (a folder, or one file) against the bundle ``signature``.

    ``public_key`` (PEM, EC P-256/384/521) or ``certificate_chain`` (PEM files) make the signature
    itself be verified, with ``model-signing``; without them only integrity is checked and the facts
    say the signature was not verified. ``hash_file`` gives the SHA-256 of a whole file from the
    caller's cache; ``max_bytes`` bounds what is hashed here (over it: ``signing.unverifiable``).
    """
    sig_name = signature.name
    try:
        manifest = read_bundle(signature)
    except ValueError as exc:
        return FormatResult(
            facts={"signed": True, "signature_file": sig_name},
            issues=(
                Issue("signing.malformed", Verdict.UNSCANNABLE, Severity.MEDIUM,
                      f"{sig_name}: not a usable signature bundle: {exc}", member=sig_name,
                      detail={"reason": str(exc)[:200]}),
            ),
        )  # fmt: skip
    facts: dict[str, JSON] = {
        "signed": True,
        "signature_file": sig_name,
        "signature_format": manifest.format,
        "hash_type": manifest.hash_type,
        "signed_files": len({_file_of(i, manifest) for i in manifest.resources}),
    }
    if manifest.model_name:
        facts["signed_model_name"] = manifest.model_name
    if manifest.root_digest:
        facts["signed_root_digest"] = manifest.root_digest
    facts.update(_signer_claims(manifest.material))
    issues: list[Issue] = []
    sig_issue = _verify_signature(manifest, signature, public_key, certificate_chain, facts)
    if sig_issue is not None:
        issues.append(sig_issue)
    issues.extend(_integrity(model_dir, signature, manifest, hash_file, max_bytes, facts))
    return FormatResult(facts=facts, issues=tuple(issues))


def _file_of(identifier: str, manifest: SignedManifest) -> str:
    if manifest.shard_size is not None:
        return identifier.rsplit(":", 2)[0]
    return identifier


@dataclass
class _Diff:
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)


def _integrity(
    model_dir: Path,
    signature: Path,
    manifest: SignedManifest,
    hash_file: HashFile | None,
    max_bytes: int | None,
    facts: dict[str, JSON],
) -> list[Issue]:
    sig_name = signature.name
    if manifest.hash_type not in ("sha256", "blake2b", "blake3") or (
        manifest.hash_type == "blake3" and _blake3() is None
    ):
        facts["integrity"] = "unverifiable"
        return [_unverifiable(sig_name, f"digests use {manifest.hash_type}, which cannot be computed here")]
    try:
        actual = _model_files(model_dir, signature, manifest)
    except _TooMany:
        facts["integrity"] = "unverifiable"
        return [_unverifiable(sig_name, f"the model has more than {MAX_MODEL_FILES} files")]
    except OSError as exc:
        facts["integrity"] = "unverifiable"
        return [_unverifiable(sig_name, f"cannot list the model: {exc.strerror or exc}")]
    expected_files = {_file_of(i, manifest) for i in manifest.resources}
    diff = _Diff(
        missing=sorted(expected_files - actual.keys()),
        extra=sorted(actual.keys() - expected_files),
    )
    if manifest.format == "in-toto":
        # Another predicate's subjects need not cover the folder: only a subject that changed counts.
        facts["subjects_absent"] = diff.missing[:_MAX_LISTED]
        diff.missing, diff.extra = [], []
    budget = [max_bytes if max_bytes is not None else -1]
    try:
        if manifest.shard_size is not None:
            diff.changed.extend(_reshaped(actual, manifest))
        for identifier, digest in sorted(manifest.resources.items()):
            file = _file_of(identifier, manifest)
            if (
                file in actual
                and file not in diff.changed
                and not _matches(actual[file], identifier, digest, manifest, hash_file, budget)
            ):
                diff.changed.append(file)
    except _OverBudget:
        facts["integrity"] = "unverifiable"
        return [_unverifiable(sig_name, f"hashing the model would read more than {max_bytes} bytes")]
    except OSError as exc:
        facts["integrity"] = "unverifiable"
        return [_unverifiable(sig_name, f"cannot read the model: {exc.strerror or exc}")]
    if not (diff.changed or diff.missing or diff.extra):
        facts["integrity"] = "valid-digests"
        facts["digests_match"] = True
        return []
    facts["integrity"] = "mismatch"
    facts["digests_match"] = False
    detail: dict[str, JSON] = {
        "changed": diff.changed[:_MAX_LISTED],
        "missing": diff.missing[:_MAX_LISTED],
        "extra": diff.extra[:_MAX_LISTED],
        "counts": {"changed": len(diff.changed), "missing": len(diff.missing), "extra": len(diff.extra)},
    }
    parts = [
        f"{label}: {', '.join(names[:6])}" + (f" (+{len(names) - 6})" if len(names) > 6 else "")
        for label, names in (("changed", diff.changed), ("missing", diff.missing), ("extra", diff.extra))
        if names
    ]
    every = diff.changed + diff.missing + diff.extra
    if all(_INERT.search(n) for n in every):
        return [
            Issue("signing.mismatch-docs", Verdict.SUSPICIOUS, Severity.LOW,
                  f"{sig_name}: only documentation files differ from the signed model ({'; '.join(parts)})",
                  member=sig_name, detail=detail)
        ]  # fmt: skip
    return [
        Issue("signing.mismatch", Verdict.MALICIOUS, Severity.CRITICAL,
              f"{sig_name}: signed model whose files no longer match the signature ({'; '.join(parts)})",
              member=sig_name, detail=detail)
    ]  # fmt: skip


def _unverifiable(sig_name: str, reason: str) -> Issue:
    return Issue(
        "signing.unverifiable", Verdict.UNSCANNABLE, Severity.MEDIUM,
        f"{sig_name}: integrity not checked: {reason}", member=sig_name, detail={"reason": reason},
    )  # fmt: skip


class _TooMany(Exception):
    pass


class _OverBudget(Exception):
    pass


def _model_files(model_dir: Path, signature: Path, manifest: SignedManifest) -> dict[str, Path]:
    """Identifier -> file for every file of the model that the signature's rules count."""
    if manifest.format == "sigstore-blob" and manifest.model_name:
        file = model_dir if model_dir.is_file() else model_dir / manifest.model_name
        return {manifest.model_name: file} if file.is_file() else {}
    if model_dir.is_file():
        return {".": model_dir}
    ignored = [PurePosixPath(p) for p in (*_GIT_PATHS, *manifest.ignore_paths) if p and not p.startswith("/")]
    sig_rel = _relative(signature, model_dir)
    if sig_rel is not None:
        ignored.append(PurePosixPath(sig_rel))  # a bundle cannot sign itself
    out: dict[str, Path] = {}
    for rel, path in _walk(model_dir):
        pure = PurePosixPath(rel)
        if any(pure == ig or pure.is_relative_to(ig) for ig in ignored):
            continue
        if len(out) >= MAX_MODEL_FILES:
            raise _TooMany
        out[rel] = path
    return out


def _relative(path: Path, base: Path) -> str | None:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except (ValueError, OSError):
        return None


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    stack: list[tuple[Path, str]] = [(root, "")]
    seen = 0
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            seen += 1
            if seen > MAX_MODEL_FILES * 2:
                raise _TooMany
            rel = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                stack.append((Path(entry.path), rel + "/"))
            elif entry.is_file():
                yield rel, Path(entry.path)


def _reshaped(actual: Mapping[str, Path], manifest: SignedManifest) -> list[str]:
    """Files whose size no longer splits into the signed shards (grown, shrunk or truncated)."""
    size = manifest.shard_size or 1
    expected: dict[str, set[str]] = {}
    for identifier in manifest.resources:
        expected.setdefault(_file_of(identifier, manifest), set()).add(identifier)
    out: list[str] = []
    for file, identifiers in sorted(expected.items()):
        if file not in actual:
            continue
        length = actual[file].stat().st_size
        if -(-length // size) != len(identifiers):
            out.append(file)
            continue
        shards = {f"{file}:{start}:{min(start + size, length)}" for start in range(0, length, size)}
        if shards != identifiers:
            out.append(file)
    return out


def _matches(
    path: Path,
    identifier: str,
    expected: str,
    manifest: SignedManifest,
    hash_file: HashFile | None,
    budget: list[int],
) -> bool:
    if manifest.shard_size is not None:
        try:
            _, start_s, end_s = identifier.rsplit(":", 2)
            start, end = int(start_s), int(end_s)
        except ValueError:
            return False
        size = path.stat().st_size
        if not 0 <= start < end <= size or (end - start > manifest.shard_size):
            return False
        return _digest(path, manifest.hash_type, start, end, budget) == expected
    if manifest.hash_type == "sha256" and hash_file is not None:
        return hash_file(path).lower() == expected
    return _digest(path, manifest.hash_type, 0, None, budget) == expected


def _digest(path: Path, hash_type: str, start: int, end: int | None, budget: list[int]) -> str:
    size = path.stat().st_size
    length = (end if end is not None else size) - start
    if budget[0] >= 0:
        if length > budget[0]:
            raise _OverBudget
        budget[0] -= length
    hasher: Any
    if hash_type == "blake3":
        module = _blake3()
        hasher = module.blake3() if module is not None else hashlib.sha256()
    else:
        hasher = hashlib.new(hash_type)
    with open(path, "rb") as fh:
        fh.seek(start)
        remaining = length
        while remaining > 0:
            chunk = fh.read(min(_CHUNK, remaining))
            if not chunk:
                break
            hasher.update(chunk)
            remaining -= len(chunk)
    return str(hasher.hexdigest())


def _blake3() -> Any:
    try:
        return importlib.import_module("blake3")
    except ImportError:
        return None


# --- signature -----------------------------------------------------------------------------------


def _verify_signature(
    manifest: SignedManifest,
    signature: Path,
    public_key: Path | None,
    certificate_chain: Sequence[Path],
    facts: dict[str, JSON],
) -> Issue | None:
    sig_name = signature.name
    facts["signature_verified"] = False
    if public_key is None and not certificate_chain:
        facts["verification"] = "signature not verified: no trust root configured offline"
        return None
    if manifest.format == "sigstore-blob" or manifest.envelope_payload is None:
        facts["verification"] = "signature not verified: blob bundles need sigstore's trust root"
        return None
    try:
        ec_key = importlib.import_module("model_signing._signing.sign_ec_key")
        certificate = importlib.import_module("model_signing._signing.sign_certificate")
        sigstore_pb = importlib.import_module("model_signing._signing.sign_sigstore_pb")
    except ImportError as exc:
        facts["verification"] = "signature not verified: model-signing is not installed"
        return Issue(
            "signing.unverifiable", Verdict.UNSCANNABLE, Severity.MEDIUM,
            f"{sig_name}: a trust root is configured but model-signing is not installed "
            f"(pip install model-signing): {exc.name}", member=sig_name,
        )  # fmt: skip
    hinted = False
    if public_key is not None:
        key_info = manifest.material.get("publicKey")
        bundle_hint = key_info.get("hint") if isinstance(key_info, dict) else None
        try:
            key_hint = _key_hint(public_key)
        except (OSError, ValueError, TypeError) as exc:
            return _config_problem(sig_name, f"the configured public key cannot be used: {exc}", facts)
        if key_info is None or (isinstance(bundle_hint, str) and bundle_hint != key_hint):
            facts["verification"] = "signed by another key than the one configured"
            return Issue(
                "signing.untrusted-key", Verdict.SUSPICIOUS, Severity.HIGH,
                f"{sig_name}: the model is signed by another key than the one trusted", member=sig_name,
                detail={"bundle_key_hint": str(bundle_hint)[:80], "trusted_key_hint": key_hint},
            )  # fmt: skip
        hinted = isinstance(bundle_hint, str)
    try:
        if public_key is not None:
            verifier = ec_key.Verifier(public_key)
        else:
            verifier = certificate.Verifier(list(certificate_chain))
    except Exception as exc:  # whatever the library raises, the trust root is unusable
        return _config_problem(sig_name, f"the configured trust root cannot be used: {exc}", facts)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # old bundles make the verifier print a warning
            verified = verifier.verify(sigstore_pb.Signature.read(signature))
    except Exception as exc:  # any failure of the verifier means "not verified"
        facts["verification"] = "signature does not verify"
        reason = f"{type(exc).__name__}: {str(exc)[:160]}"
        if hinted:
            # The bundle names the trusted key, yet its signature fails: the statement was altered.
            return Issue(
                "signing.invalid-signature", Verdict.MALICIOUS, Severity.CRITICAL,
                f"{sig_name}: the signature does not verify under the trusted key although the bundle "
                f"names that key: the signed statement was altered ({reason})",
                member=sig_name, detail={"reason": reason},
            )  # fmt: skip
        return Issue(
            "signing.invalid-signature", Verdict.SUSPICIOUS, Severity.HIGH,
            f"{sig_name}: the signature does not verify under the trusted "
            f"{'key' if public_key else 'certificate chain'}: signed by someone else, or altered ({reason})",
            member=sig_name, detail={"reason": reason},
        )  # fmt: skip
    verified_names = {str(rd.identifier) for rd in verified.resource_descriptors()}
    if verified_names != set(manifest.resources):
        facts["verification"] = "verified statement differs from the parsed one"
        return Issue(
            "signing.malformed", Verdict.UNSCANNABLE, Severity.MEDIUM,
            f"{sig_name}: model-signing and aispm read the signed statement differently", member=sig_name,
        )  # fmt: skip
    facts["signature_verified"] = True
    facts["verification"] = (
        "signature verified with the configured public key"
        if public_key
        else "signature verified with the configured certificate chain"
    )
    return None


def _config_problem(sig_name: str, reason: str, facts: dict[str, JSON]) -> Issue:
    facts["verification"] = f"signature not verified: {reason}"
    return Issue(
        "signing.unverifiable", Verdict.UNSCANNABLE, Severity.MEDIUM, f"{sig_name}: {reason}",
        member=sig_name, detail={"reason": reason[:200]},
    )  # fmt: skip


def _key_hint(public_key: Path) -> str:
    """model-signing's key hint: SHA-256 of the key's PEM SubjectPublicKeyInfo; EC keys only."""
    serialization = importlib.import_module("cryptography.hazmat.primitives.serialization")
    ec = importlib.import_module("cryptography.hazmat.primitives.asymmetric.ec")
    key = serialization.load_pem_public_key(public_key.read_bytes())
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("not an elliptic-curve public key")
    pem = key.public_bytes(
        encoding=serialization.Encoding.PEM, format=serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(pem).hexdigest()


def _signer_claims(material: Mapping[str, Any]) -> dict[str, JSON]:
    """What the bundle says about its signer (unverified): key hint, certificate identity and issuer."""
    out: dict[str, JSON] = {}
    key = material.get("publicKey")
    if isinstance(key, dict) and isinstance(key.get("hint"), str):
        out["signer_key_hint"] = key["hint"][:80]
    raw: object = None
    cert = material.get("certificate")
    chain = material.get("x509CertificateChain")
    if isinstance(cert, dict):
        raw = cert.get("rawBytes")
    elif isinstance(chain, dict) and isinstance(chain.get("certificates"), list) and chain["certificates"]:
        first = chain["certificates"][0]
        raw = first.get("rawBytes") if isinstance(first, dict) else None
    if isinstance(raw, str) and len(raw) < 64 * 1024:
        out["signer_certificate"] = True
        out.update(_certificate_identity(raw))
    if isinstance(material.get("tlogEntries"), list) and material["tlogEntries"]:
        out["transparency_log_entries"] = len(material["tlogEntries"])
    return out


def _certificate_identity(raw_b64: str) -> dict[str, JSON]:
    try:
        x509 = importlib.import_module("cryptography.x509")
        cert = x509.load_der_x509_certificate(base64.b64decode(raw_b64))
    except Exception:  # no cryptography, or an unreadable certificate: no claim
        return {}
    out: dict[str, JSON] = {}
    with contextlib.suppress(Exception):
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(v) for v in san.get_values_for_type(x509.RFC822Name)]
        names += [str(v) for v in san.get_values_for_type(x509.UniformResourceIdentifier)]
        if names:
            out["signer_identity"] = names[0][:200]
    for oid, der in ((_FULCIO_ISSUER_V2, True), (_FULCIO_ISSUER_V1, False)):
        with contextlib.suppress(Exception):
            value = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(oid)).value.value
            text = _der_utf8(value) if der else value.decode("utf-8", "replace")
            if text:
                out["signer_issuer"] = text[:200]
                break
    with contextlib.suppress(Exception):
        out["certificate_issuer"] = cert.issuer.rfc4514_string()[:200]
    return out


def _der_utf8(value: bytes) -> str | None:
    # A DER UTF8String: tag 0x0c, a short or long length, then the text.
    if len(value) < 2 or value[0] != 0x0C:
        return None
    length, offset = value[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, offset = int.from_bytes(value[2 : 2 + count], "big"), 2 + count
    return value[offset : offset + length].decode("utf-8", "replace")


def manifest_files(manifest: SignedManifest) -> list[str]:
    """The files a manifest names (shards folded into their file), sorted."""
    return sorted({posixpath.normpath(_file_of(i, manifest)) for i in manifest.resources})
