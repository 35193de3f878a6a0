"""Signed models, signed for real with model-signing (EC keys and certificates), then tampered with."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import sys
from pathlib import Path

import model_signing
import numpy as np
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors.numpy import save_file

from aispm.analysis.artifact_report import FormatResult, Verdict
from aispm.analysis.model_signing import (
    find_signatures,
    read_bundle,
    signed_model_path,
    verify_model_signature,
)
from aispm.model import Severity

IN_TOTO = "application/vnd.in-toto+json"


def write_key(folder: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    private = folder / f"{name}.pem"
    public = folder / f"{name}.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def make_model(folder: Path) -> Path:
    model = folder / "tiny-model"
    (model / "sub").mkdir(parents=True)
    save_file({"w": np.arange(64, dtype=np.float32).reshape(8, 8)}, model / "model.safetensors")
    (model / "config.json").write_text(json.dumps({"architectures": ["BertModel"], "model_type": "bert"}))
    (model / "tokenizer.json").write_text(json.dumps({"version": "1.0", "model": {"type": "WordPiece"}}))
    (model / "README.md").write_text("---\nlicense: mit\n---\n# tiny\n")
    (model / "sub" / "vocab.txt").write_text("[PAD]\n[UNK]\nhello\n")
    (model / ".gitattributes").write_text("*.safetensors filter=lfs\n")
    return model


def hashing_config(*, shards: int | None = None, algorithm: str = "sha256") -> object:
    config = model_signing.hashing.Config()
    if shards is not None:
        config.use_shard_serialization(shard_size=shards, hashing_algorithm=algorithm)
    else:
        config.use_file_serialization(hashing_algorithm=algorithm)
    return config.set_ignored_paths(paths=["model.sig"])


def sign(model: Path, private: Path, *, hashing: object | None = None) -> Path:
    signature = model / "model.sig"
    config = model_signing.signing.Config().use_elliptic_key_signer(private_key=private)
    config.set_hashing_config(hashing or hashing_config())
    config.sign(model, signature)
    return signature


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A model signed with an EC P-256 key: (model folder, bundle, public key)."""
    private, public = write_key(tmp_path, "signer")
    model = make_model(tmp_path)
    return model, sign(model, private), public


def rules(result: FormatResult) -> list[str]:
    return [i.rule for i in result.issues]


# --- integrity ----------------------------------------------------------------------------------


def test_untouched_signed_model_verifies_offline_without_a_key(signed: tuple[Path, Path, Path]) -> None:
    model, sig, _ = signed
    result = verify_model_signature(model, sig)
    assert result.issues == ()
    assert result.facts["integrity"] == "valid-digests"
    assert result.facts["signature_verified"] is False
    assert result.facts["verification"] == "signature not verified: no trust root configured offline"
    assert result.facts["signed_files"] == 5  # .gitattributes and the bundle are not signed
    assert result.facts["signature_format"] == "model-signing/v1.0"


def test_signature_verifies_with_the_right_public_key(signed: tuple[Path, Path, Path]) -> None:
    model, sig, public = signed
    result = verify_model_signature(model, sig, public_key=public)
    assert result.issues == ()
    assert result.facts["signature_verified"] is True
    # model-signing's own verifier agrees: our digests are the library's.
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=public).verify(model, sig)


def test_a_changed_weight_file_is_a_critical_mismatch(signed: tuple[Path, Path, Path]) -> None:
    model, sig, public = signed
    save_file({"w": np.ones((8, 8), dtype=np.float32)}, model / "model.safetensors")
    result = verify_model_signature(model, sig, public_key=public)
    assert rules(result) == ["signing.mismatch"]
    issue = result.issues[0]
    assert (issue.verdict, issue.severity) == (Verdict.MALICIOUS, Severity.CRITICAL)
    assert issue.detail["changed"] == ["model.safetensors"]
    assert "no longer match" in issue.message
    assert result.facts["signature_verified"] is True  # the bundle is genuine; the files are not


def test_an_added_file_is_a_mismatch(signed: tuple[Path, Path, Path]) -> None:
    model, sig, _ = signed
    (model / "pytorch_model.bin").write_bytes(b"\x80\x04N.")
    result = verify_model_signature(model, sig)
    assert rules(result) == ["signing.mismatch"]
    assert result.issues[0].detail["extra"] == ["pytorch_model.bin"]


def test_a_deleted_file_is_a_mismatch(signed: tuple[Path, Path, Path]) -> None:
    model, sig, _ = signed
    (model / "sub" / "vocab.txt").unlink()
    result = verify_model_signature(model, sig)
    assert rules(result) == ["signing.mismatch"]
    assert result.issues[0].detail["missing"] == ["sub/vocab.txt"]


def test_only_documentation_changed_is_low(signed: tuple[Path, Path, Path]) -> None:
    model, sig, _ = signed
    (model / "README.md").write_text("# edited\n")
    (model / "diagram.png").write_bytes(b"\x89PNG\r\n")
    result = verify_model_signature(model, sig)
    assert rules(result) == ["signing.mismatch-docs"]
    assert result.issues[0].severity == Severity.LOW


def test_git_files_and_ignored_paths_do_not_count(signed: tuple[Path, Path, Path]) -> None:
    model, sig, _ = signed
    (model / ".git").mkdir()
    (model / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (model / ".gitattributes").write_text("changed\n")
    assert verify_model_signature(model, sig).issues == ()


def test_sharded_manifest_verifies_and_catches_appended_bytes(tmp_path: Path) -> None:
    private, public = write_key(tmp_path, "k")
    model = make_model(tmp_path)
    sig = sign(model, private, hashing=hashing_config(shards=100))
    ok = verify_model_signature(model, sig, public_key=public)
    assert ok.issues == () and ok.facts["signature_verified"] is True
    with open(model / "model.safetensors", "ab") as fh:
        fh.write(b"\x00" * 7)
    bad = verify_model_signature(model, sig)
    assert rules(bad) == ["signing.mismatch"]
    assert bad.issues[0].detail["changed"] == ["model.safetensors"]


def test_sharded_manifest_catches_a_flipped_byte_in_the_middle(tmp_path: Path) -> None:
    private, _ = write_key(tmp_path, "k")
    model = make_model(tmp_path)
    sig = sign(model, private, hashing=hashing_config(shards=64))
    data = bytearray((model / "model.safetensors").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (model / "model.safetensors").write_bytes(bytes(data))
    assert rules(verify_model_signature(model, sig)) == ["signing.mismatch"]


def test_blake2_manifests_are_recomputed(tmp_path: Path) -> None:
    private, _ = write_key(tmp_path, "k")
    model = make_model(tmp_path)
    sig = sign(model, private, hashing=hashing_config(algorithm="blake2"))
    result = verify_model_signature(model, sig)
    assert result.issues == ()
    assert result.facts["hash_type"] == "blake2b"


def test_blake3_manifests_need_the_blake3_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    private, _ = write_key(tmp_path, "k")
    model = make_model(tmp_path)
    sig = sign(model, private, hashing=hashing_config(algorithm="blake3"))
    assert verify_model_signature(model, sig).issues == ()
    monkeypatch.setitem(sys.modules, "blake3", None)
    result = verify_model_signature(model, sig)
    assert rules(result) == ["signing.unverifiable"]
    assert "blake3" in result.issues[0].message


def test_cached_hashes_are_used_for_sha256(signed: tuple[Path, Path, Path]) -> None:
    model, sig, _ = signed
    calls: list[str] = []

    def cached(path: Path) -> str:
        calls.append(path.name)
        return hashlib.sha256(path.read_bytes()).hexdigest()

    assert verify_model_signature(model, sig, hash_file=cached).issues == ()
    assert sorted(calls) == ["README.md", "config.json", "model.safetensors", "tokenizer.json", "vocab.txt"]


def test_byte_budget_makes_integrity_unverifiable(signed: tuple[Path, Path, Path]) -> None:
    model, sig, _ = signed
    result = verify_model_signature(model, sig, max_bytes=10)
    assert rules(result) == ["signing.unverifiable"]
    assert result.issues[0].verdict == Verdict.UNSCANNABLE
    assert result.facts["integrity"] == "unverifiable"


def test_a_single_signed_file(tmp_path: Path) -> None:
    private, public = write_key(tmp_path, "k")
    model = make_model(tmp_path)
    weights = model / "model.safetensors"
    sig = tmp_path / "weights.sig"
    config = model_signing.signing.Config().use_elliptic_key_signer(private_key=private)
    config.sign(weights, sig)
    assert verify_model_signature(weights, sig, public_key=public).issues == ()
    weights.write_bytes(weights.read_bytes() + b" ")
    assert rules(verify_model_signature(weights, sig)) == ["signing.mismatch"]


# --- the signature itself -----------------------------------------------------------------------


def test_wrong_key_is_an_untrusted_signer(signed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    model, sig, _ = signed
    _, other = write_key(tmp_path, "other")
    result = verify_model_signature(model, sig, public_key=other)
    assert "signing.untrusted-key" in rules(result)
    issue = next(i for i in result.issues if i.rule == "signing.untrusted-key")
    assert (issue.verdict, issue.severity) == (Verdict.SUSPICIOUS, Severity.HIGH)
    assert result.facts["signature_verified"] is False


def _rewrite_statement(sig: Path, edit: object) -> None:
    bundle = json.loads(sig.read_text())
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    edit(statement)  # type: ignore[operator]
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    sig.write_text(json.dumps(bundle))


def test_forged_statement_matching_tampered_files_fails_the_signature(
    signed: tuple[Path, Path, Path],
) -> None:
    """The attack integrity alone cannot see: new weights and a statement recomputed to match them."""
    model, sig, public = signed
    save_file({"w": np.full((8, 8), 7, dtype=np.float32)}, model / "model.safetensors")
    new_digest = hashlib.sha256((model / "model.safetensors").read_bytes()).hexdigest()

    def forge(statement: dict[str, object]) -> None:
        resources = statement["predicate"]["resources"]  # type: ignore[index]
        for res in resources:
            if res["name"] == "model.safetensors":
                res["digest"] = new_digest
        root = hashlib.sha256(b"".join(bytes.fromhex(r["digest"]) for r in resources)).hexdigest()
        statement["subject"][0]["digest"]["sha256"] = root  # type: ignore[index]

    _rewrite_statement(sig, forge)
    offline = verify_model_signature(model, sig)
    assert offline.issues == ()  # digests match the (forged) statement; nothing offline can tell
    assert offline.facts["signature_verified"] is False
    keyed = verify_model_signature(model, sig, public_key=public)
    assert rules(keyed) == ["signing.invalid-signature"]
    assert (keyed.issues[0].verdict, keyed.issues[0].severity) == (Verdict.MALICIOUS, Severity.CRITICAL)


def test_edited_resources_without_the_root_digest_are_malformed(signed: tuple[Path, Path, Path]) -> None:
    model, sig, _ = signed

    def edit(statement: dict[str, object]) -> None:
        statement["predicate"]["resources"][0]["digest"] = "00" * 32  # type: ignore[index]

    _rewrite_statement(sig, edit)
    result = verify_model_signature(model, sig)
    assert rules(result) == ["signing.malformed"]
    assert "statement altered" in result.issues[0].message


def test_certificate_signed_model_verifies_with_its_chain(tmp_path: Path) -> None:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)

    def cert(subject: str, key: object, issuer: str, signer: object, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())  # type: ignore[attr-defined]
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=not ca,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=ca,
                    crl_sign=ca,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.RFC822Name("release@example.org")]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())  # type: ignore[arg-type]

    ca = cert("Test CA", ca_key, "Test CA", ca_key, True)
    leaf = cert("signer", leaf_key, "Test CA", ca_key, False)
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.key").write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    model = make_model(tmp_path)
    sig = model / "model.sig"
    config = model_signing.signing.Config().use_certificate_signer(
        private_key=tmp_path / "leaf.key",
        signing_certificate=tmp_path / "leaf.pem",
        certificate_chain=[tmp_path / "ca.pem"],
    )
    config.set_hashing_config(hashing_config()).sign(model, sig)

    offline = verify_model_signature(model, sig)
    assert offline.issues == ()
    assert offline.facts["signer_identity"] == "release@example.org"  # claimed, not verified
    chained = verify_model_signature(model, sig, certificate_chain=[tmp_path / "ca.pem"])
    assert chained.issues == () and chained.facts["signature_verified"] is True

    other_ca = cert("Other CA", ca_key := ec.generate_private_key(ec.SECP256R1()), "Other CA", ca_key, True)
    (tmp_path / "other.pem").write_bytes(other_ca.public_bytes(serialization.Encoding.PEM))
    wrong = verify_model_signature(model, sig, certificate_chain=[tmp_path / "other.pem"])
    assert rules(wrong) == ["signing.invalid-signature"]
    assert wrong.issues[0].verdict == Verdict.SUSPICIOUS


def test_rsa_public_key_is_a_configuration_problem(signed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    model, sig, _ = signed
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "rsa.pub"
    pem.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    result = verify_model_signature(model, sig, public_key=pem)
    assert rules(result) == ["signing.unverifiable"]
    assert result.facts["integrity"] == "valid-digests"


def test_without_model_signing_a_configured_key_fails_closed(
    signed: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    model, sig, public = signed
    monkeypatch.setitem(sys.modules, "model_signing._signing.sign_ec_key", None)
    result = verify_model_signature(model, sig, public_key=public)
    assert rules(result) == ["signing.unverifiable"]
    assert result.facts["signature_verified"] is False
    assert result.facts["integrity"] == "valid-digests"  # integrity needs no library


# --- sigstore blob bundles ----------------------------------------------------------------------


def blob_bundle(target: Path, digest: bytes) -> Path:
    bundle = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"certificate": {"rawBytes": base64.b64encode(b"not a cert").decode()}},
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": base64.b64encode(digest).decode()},
            "signature": base64.b64encode(b"sig").decode(),
        },
    }
    path = target.parent / f"{target.name}.sigstore.json"
    path.write_text(json.dumps(bundle))
    return path


def test_blob_bundle_checks_the_file_it_is_named_after(tmp_path: Path) -> None:
    model = make_model(tmp_path)
    weights = model / "model.safetensors"
    sig = blob_bundle(weights, hashlib.sha256(weights.read_bytes()).digest())
    assert signed_model_path(sig) == weights
    ok = verify_model_signature(model, sig)
    assert ok.issues == () and ok.facts["signature_format"] == "sigstore-blob"
    assert ok.facts["signature_verified"] is False
    weights.write_bytes(b"replaced")
    bad = verify_model_signature(weights, sig)
    assert rules(bad) == ["signing.mismatch"]


# --- malformed bundles --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00\xff garbage",
        b"[1, 2, 3]",
        b'{"mediaType": "x"}',
        json.dumps({"dsseEnvelope": {"payloadType": IN_TOTO, "payload": "%%%", "signatures": [{}]}}).encode(),
        b'{"dsseEnvelope": {"payloadType": "text/plain", "payload": "", "signatures": [{}]}}',
        json.dumps({"dsseEnvelope": {"payloadType": IN_TOTO, "payload": "e30=", "signatures": []}}).encode(),
        b'{"messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": "AAAA"}}}',
        b'{"dsseEnvelope": ' * 2000,
    ],
)
def test_unusable_bundles_are_malformed(tmp_path: Path, content: bytes) -> None:
    model = make_model(tmp_path)
    sig = model / "model.sig"
    sig.write_bytes(content)
    result = verify_model_signature(model, sig)
    assert rules(result) == ["signing.malformed"]
    assert result.issues[0].verdict == Verdict.UNSCANNABLE


def test_truncated_real_bundle_is_malformed(signed: tuple[Path, Path, Path]) -> None:
    model, sig, _ = signed
    sig.write_bytes(sig.read_bytes()[:200])
    assert rules(verify_model_signature(model, sig)) == ["signing.malformed"]


def payloads() -> st.SearchStrategy[object]:
    leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
    return st.recursive(
        leaf, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c, max_size=4)
    )


@settings(max_examples=150)
@given(statement=payloads(), raw=st.binary(max_size=200))
def test_arbitrary_bundles_never_raise(
    tmp_path_factory: pytest.TempPathFactory, statement: object, raw: bytes
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "w.bin").write_bytes(b"x")
    payload = base64.b64encode(json.dumps(statement).encode()).decode()
    for content in (
        raw,
        json.dumps({"dsseEnvelope": {"payloadType": "application/vnd.in-toto+json", "payload": payload,
                                     "signatures": [{"sig": ""}]}}).encode(),
        json.dumps({"dsseEnvelope": statement, "verificationMaterial": statement}).encode(),
    ):  # fmt: skip
        sig = folder / "model.sig"
        sig.write_bytes(content)
        result = verify_model_signature(folder, sig)
        assert all(i.rule.startswith("signing.") for i in result.issues)


# --- discovery ----------------------------------------------------------------------------------


def test_find_signatures_and_the_model_they_sign(signed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    model, sig, _ = signed
    # model-signing's CLI writes model.sig in the working directory, beside the model folder.
    beside = tmp_path / "model.sig"
    beside.write_bytes(sig.read_bytes())
    assert signed_model_path(beside) == model
    assert signed_model_path(sig) == model
    assert read_bundle(beside).model_name == "tiny-model"
    assert verify_model_signature(signed_model_path(beside) or tmp_path, beside).issues == ()
    (model / "detached.sig").write_bytes(b"\x89\x01\x33 gpg binary signature")
    blob = blob_bundle(model / "config.json", b"\x00" * 32)
    assert find_signatures(model) == sorted([sig, blob])
