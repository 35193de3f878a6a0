"""One scan, end to end: walk the targets, run collectors, resolve, merge, run checks.

The pipeline is the only place that knows the order of the stages; collectors and checks know
nothing of each other. Everything here is deterministic for a given tree: files are visited in
sorted order and every merge is keyed by stable ids.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import os
import posixpath
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TypeVar

from aispm import __version__
from aispm.analysis.hash_book import SHA256_BOOK, Sha256Book
from aispm.analysis.model_ids import identify_dataset, identify_model
from aispm.assets import SAAS_PROVIDERS, dataset_asset, model_asset, provider_asset
from aispm.checks.base import Check, NotAssessable, load_checks
from aispm.collectors.base import (
    Collector,
    CollectorError,
    EnvBinding,
    ModelMention,
    Observation,
    SourceFile,
    load_collectors,
    observation_from_dict,
    observation_to_dict,
    scope_of,
)
from aispm.inventory import Inventory, merge_assets
from aispm.model import (
    JSON,
    Asset,
    CheckRun,
    ErrorKind,
    Finding,
    Relation,
    RelationKind,
    ScanError,
    ScanInfo,
    ScanResult,
    Scope,
)

_T = TypeVar("_T")

#: Directories that hold version-control internals, not sources. Skipped and counted in stats.
VCS_DIRS = frozenset({".git", ".hg", ".svn"})
#: Files above this size are hashed for the cache by (size, mtime) instead of by content.
CONTENT_HASH_LIMIT = 1024 * 1024


#: A file modified this recently may change again within the clock's resolution without its stamp
#: changing ("racily clean", as git calls it): its digest is not remembered by stamp.
RACY_NS = 2_000_000_000


class ObservationCache(Protocol):
    """Per-file observations from earlier scans, keyed by content and collector versions, and the
    content digest each file had under a given stat stamp (so unchanged files need not be read)."""

    def get_many(self, keys: Sequence[str]) -> Mapping[str, list[dict[str, JSON]]]: ...

    def put_many(self, entries: Mapping[str, list[dict[str, JSON]]]) -> None: ...

    def get_digests(self, stat_keys: Sequence[str]) -> Mapping[str, str]: ...

    def put_digests(self, entries: Mapping[str, str]) -> None: ...


ProgressFn = Callable[[int, int], None]


@dataclass
class ScanOptions:
    """How to scan. ``collectors``/``checks``: registered names, or instances to use as they are;
    None means every registered one."""

    collectors: Sequence[str | Collector] | None = None
    checks: Sequence[str | Check] | None = None
    max_files: int = 200_000
    cache: ObservationCache | None = None
    progress: ProgressFn | None = None


@dataclass
class _Walk:
    files: list[SourceFile] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: list[ScanError] = field(default_factory=list)


def scan(targets: Sequence[Path], options: ScanOptions | None = None) -> ScanResult:
    """Scan ``targets`` (directories or files) and return the whole result. Never raises for bad input."""
    with _fewer_collections():
        return _scan(targets, options)


#: Allocations between young-generation collections during a scan (CPython's default is 700).
GC_YOUNG_THRESHOLD = 50_000


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collect the young generation less often while scanning, then restore the settings.

    A scan allocates tens of thousands of records that all live until it ends; with the default
    threshold the cyclic collector walks them over and over (a third of a rescan's time, measured
    on the 1,000-file synthetic tree). Reference counting still frees everything acyclic at once.
    """
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], GC_YOUNG_THRESHOLD), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _scan(targets: Sequence[Path], options: ScanOptions | None) -> ScanResult:
    opts = options or ScanOptions()
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    collectors = _pick(opts.collectors, load_collectors)
    checks = _pick(opts.checks, load_checks)

    walk = _walk_targets(targets, opts.max_files)
    observations, errors, cstats = _collect(walk.files, collectors, opts)
    errors.extend(walk.errors)

    assets, relations = _resolve(observations, frozenset(f.path for f in walk.files))
    inventory = Inventory(merge_assets(assets), relations)
    findings, check_runs, check_errors = run_checks(checks, inventory)
    errors.extend(check_errors)

    finished = datetime.now(UTC)
    info = ScanInfo(
        id=str(uuid.uuid4()),
        started_at=started.isoformat(),
        finished_at=finished.isoformat(),
        targets=tuple(_target_label(t) for t in targets),
        tool_version=__version__,
        collectors=tuple(c.name for c in collectors),
        stats={
            "files_seen": len(walk.files),
            "files_read": cstats["files_read"],
            "cache_hits": cstats["cache_hits"],
            "skipped": dict(sorted(walk.skipped.items())),
            "duration_s": round(time.perf_counter() - t0, 3),
        },
    )
    return ScanResult(
        info=info,
        assets=inventory.assets,
        relations=inventory.relations,
        findings=tuple(sorted(findings, key=_finding_order)),
        errors=tuple(sorted(set(errors))),
        check_runs=tuple(check_runs),
    )


def _pick(chosen: Sequence[str | _T] | None, load: Callable[[Iterable[str] | None], list[_T]]) -> list[_T]:
    if chosen is None:
        return load(None)
    names = [c for c in chosen if isinstance(c, str)]
    instances = [c for c in chosen if not isinstance(c, str)]
    return instances + (load(names) if names else [])


def _target_label(target: Path) -> str:
    return target.name or str(target)


def _walk_targets(targets: Sequence[Path], max_files: int) -> _Walk:
    """Every regular file under the targets, sorted. Symlinks are not followed; VCS dirs are skipped.

    With several targets, each one's paths are prefixed with its name so they cannot collide.
    """
    walk = _Walk()
    prefix_needed = len(targets) > 1
    for target in targets:
        label = _target_label(target)
        root = target.resolve() if not target.is_symlink() else target
        if not root.exists():
            walk.errors.append(ScanError(str(target), "walk", ErrorKind.READ, "target does not exist"))
            continue
        if root.is_file():
            rel = root.name
            files: Iterable[tuple[Path, str, os.stat_result]] = [(root, rel, root.stat())]
        else:
            files = _walk_dir(root, walk)
        for abs_path, rel, st in files:
            if len(walk.files) >= max_files:
                walk.errors.append(
                    ScanError(label, "walk", ErrorKind.LIMIT, f"stopped after {max_files} files (max_files)")
                )
                return walk
            path = f"{label}/{rel}" if prefix_needed else rel
            stamp = (st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
            walk.files.append(SourceFile(abs_path, path, st.st_size, scope_of(rel), stamp))
    return walk


def _walk_dir(root: Path, walk: _Walk) -> Iterator[tuple[Path, str, os.stat_result]]:
    base = str(root)
    cut = len(base) + 1

    def rel(path: str) -> str:
        return path[cut:].replace(os.sep, "/")

    stack = [base]
    while stack:
        d = stack.pop()
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError as exc:
            walk.errors.append(ScanError(rel(d) or ".", "walk", ErrorKind.READ, f"cannot list: {exc}"))
            continue
        subdirs: list[str] = []
        for e in entries:
            try:
                if e.is_symlink():
                    walk.skipped["symlinks (not followed)"] += 1
                elif e.is_dir(follow_symlinks=False):
                    if e.name in VCS_DIRS:
                        walk.skipped[f"{e.name} directories (version-control metadata)"] += 1
                    else:
                        subdirs.append(e.path)
                elif e.is_file(follow_symlinks=False):
                    yield Path(e.path), rel(e.path), e.stat(follow_symlinks=False)
                else:
                    walk.skipped["special files (sockets, fifos, devices)"] += 1
            except OSError as exc:
                walk.errors.append(ScanError(rel(e.path), "walk", ErrorKind.READ, str(exc)))
        stack.extend(reversed(subdirs))


def _collect(
    files: Sequence[SourceFile], collectors: Sequence[Collector], opts: ScanOptions
) -> tuple[list[Observation], list[ScanError], dict[str, int]]:
    observations: list[Observation] = []
    errors: list[ScanError] = []
    stats = {"files_read": 0, "cache_hits": 0}
    plan: list[tuple[SourceFile, list[Collector]]] = []
    for f in files:
        wanting: list[Collector] = []
        for c in collectors:
            try:
                if c.wants(f):
                    wanting.append(c)
            except Exception as exc:
                errors.append(
                    ScanError(f.path, c.name, ErrorKind.INTERNAL, f"wants() failed: {_describe(exc)}")
                )
        if wanting:
            plan.append((f, wanting))
    stats["files_read"] = len(plan)

    keys: dict[int, str] = {}
    cached: Mapping[str, list[dict[str, JSON]]] = {}
    racy_after = time.time_ns() - RACY_NS
    learned: dict[str, str] = {}
    if opts.cache is not None:
        keys, learned = _cache_keys(plan, opts.cache, racy_after)
        cached = opts.cache.get_many(list(keys.values()))
    fresh: dict[str, list[dict[str, JSON]]] = {}

    # Whole-file SHA-256s taken while collecting are remembered by stamp too (a signature's weights).
    book = Sha256Book(opts.cache, racy_after) if opts.cache is not None else None
    token = SHA256_BOOK.set(book)
    try:
        total = len(plan)
        for i, (f, wanting) in enumerate(plan):
            key = keys.get(i)
            if key is not None and key in cached:
                observations.extend(observation_from_dict(d) for d in cached[key])
                stats["cache_hits"] += 1
            else:
                file_obs: list[Observation] = []
                file_ok = True
                for c in wanting:
                    try:
                        for obs in c.collect(f):
                            file_obs.append(obs)
                    except CollectorError as exc:
                        file_ok = False
                        errors.append(ScanError(f.path, c.name, exc.kind, str(exc)))
                    except RecursionError:
                        file_ok = False
                        errors.append(
                            ScanError(f.path, c.name, ErrorKind.LIMIT, "nesting too deep to analyse")
                        )
                    except Exception as exc:
                        file_ok = False
                        errors.append(ScanError(f.path, c.name, ErrorKind.INTERNAL, _describe(exc)))
                observations.extend(file_obs)
                # Only files read cleanly are cached: a file that failed is retried (and reported) next time.
                if key is not None and file_ok:
                    fresh[key] = [observation_to_dict(o) for o in file_obs]
            if opts.progress is not None:
                opts.progress(i + 1, total)
    finally:
        SHA256_BOOK.reset(token)
    if opts.cache is not None:
        if fresh:
            opts.cache.put_many(fresh)
        if book is not None:
            learned.update(book.learned)
        if learned:
            opts.cache.put_digests(learned)
    return observations, errors, stats


def _cache_keys(
    plan: Sequence[tuple[SourceFile, list[Collector]]], cache: ObservationCache, racy_after: int
) -> tuple[dict[int, str], dict[str, str]]:
    """The observation-cache key of each planned file (by index), where one can be made, and the
    content digests learned by stat stamp (for the caller to save with the scan's other digests).

    A key covers aispm's version, the collectors that read the file (names and versions), the
    stat stamps of the neighbour files they read with it, the file's relative path and scope, and
    its content digest. The digest of a file whose stat stamp is unchanged since an earlier scan
    comes from the cache, so an unchanged tree is not read; a file modified after ``racy_after``
    is read but its digest is not remembered by stamp.
    """
    stat_keys = {i: _stat_key(f) for i, (f, _) in enumerate(plan)}
    known = cache.get_digests([k for k in stat_keys.values() if k is not None])
    learned: dict[str, str] = {}
    keys: dict[int, str] = {}
    for i, (f, wanting) in enumerate(plan):
        if not all(c.cacheable(f) for c in wanting):
            continue
        sk = stat_keys[i]
        digest = known.get(sk) if sk is not None else None
        if digest is None:
            digest = _content_digest(f)
            if digest is None:
                continue
            if sk is not None and f.stamp is not None and f.stamp[0] < racy_after:
                learned[sk] = digest
        h = hashlib.blake2b(digest_size=20)
        h.update(__version__.encode())
        for c in wanting:
            h.update(f"\x1f{c.name}:{c.version}".encode())
            for other in c.neighbours(f):
                h.update(f"\x1d{other.name}:{_stamp_of(other)}".encode())
        h.update(f"\x1e{f.path}\x1e{int(f.scope.rank)}\x1e{digest}".encode())
        keys[i] = h.hexdigest()
    return keys, learned


def _stamp_of(path: Path) -> str:
    """A neighbour file's stat stamp (size, mtime, ctime, inode), or ``absent``."""
    try:
        st = path.stat()
    except OSError:
        return "absent"
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def _stat_key(f: SourceFile) -> str | None:
    """Identifies a file's exact state on this machine: absolute path, size, times, inode."""
    if f.stamp is None:
        return None
    raw = f"{f.abs_path}\x1f{f.size}\x1f" + "\x1f".join(map(str, f.stamp))
    return hashlib.blake2b(raw.encode(), digest_size=20).hexdigest()


def _content_digest(f: SourceFile) -> str | None:
    """A digest of the file's content; of its stat stamp for files too large to hash on every scan."""
    h = hashlib.blake2b(digest_size=20)
    try:
        if f.size <= CONTENT_HASH_LIMIT:
            h.update(f.read_bytes(CONTENT_HASH_LIMIT))
        else:
            st = f.abs_path.stat()
            h.update(f"{f.abs_path}\x1f{st.st_size}\x1f{st.st_mtime_ns}".encode())
    except (OSError, CollectorError):
        return None
    return h.hexdigest()


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _resolve(
    observations: Iterable[Observation], files: frozenset[str]
) -> tuple[list[Asset], list[Relation]]:
    """Turn mentions into model and dataset assets, resolving env-var indirection.

    ``files`` holds the target-relative path of every file walked, to resolve dataset file paths.
    """
    assets: list[Asset] = []
    relations: list[Relation] = []
    mentions: list[ModelMention] = []
    bindings: dict[str, list[EnvBinding]] = defaultdict(list)
    for obs in observations:
        if isinstance(obs, Asset):
            assets.append(obs)
        elif isinstance(obs, Relation):
            relations.append(obs)
        elif isinstance(obs, ModelMention):
            mentions.append(obs)
        else:
            bindings[obs.name].append(obs)
    memo: dict[tuple[str, str], list[tuple[str, EnvBinding]]] = {}
    loaded = _loaded_from_tree(mentions, files)
    for m in mentions:
        if (
            not m.dataset
            and m.env_var is None
            and not m.properties.get("artifact_path")
            and (m.location.path, m.location.line, m.value) in loaded
        ):
            continue  # the call loads a file or folder of the tree: linked to that artifact instead
        for value, resolved_from in _candidate_values(m, bindings, memo):
            made = _assets_for_mention(m, value, resolved_from, files)
            if made is None:
                continue
            new_assets, new_relations = made
            assets.extend(new_assets)
            relations.extend(new_relations)
    return assets, relations


def _candidate_values(
    m: ModelMention,
    bindings: Mapping[str, list[EnvBinding]],
    memo: dict[tuple[str, str], list[tuple[str, EnvBinding]]],
) -> list[tuple[str, EnvBinding | None]]:
    """The values a mention can take: its literal, or every value its variable is bound to.

    A variable bound in several places (``.env`` and compose, say) may name several models; each is
    a real deployment option, so each is kept, nearest binding first. Where nothing binds it, the
    code's default stands. Results are shared by every mention of a variable in one directory.
    """
    if m.env_var is None:
        return [(m.value, None)] if m.value else []
    bound = bindings.get(m.env_var)
    if not bound:
        return [(m.value, None)] if m.value else []
    directory = m.location.path.rpartition("/")[0]
    key = (m.env_var, directory)
    if key not in memo:
        seen: dict[str, EnvBinding] = {}
        for b in sorted(bound, key=lambda b: (-_shared_prefix(b.location.path, m.location.path), b.location)):
            seen.setdefault(b.value, b)
        memo[key] = list(seen.items())
    return list(memo[key])


def _shared_prefix(a: str, b: str) -> int:
    pa, pb = a.split("/")[:-1], b.split("/")[:-1]
    n = 0
    for x, y in zip(pa, pb, strict=False):
        if x != y:
            break
        n += 1
    return n


def _tree_path(name: str, mentioned_in: str, files: frozenset[str]) -> str:
    """A relative file path as the target-relative path of the file it names, where one matches.

    Code opens paths relative to a working directory we cannot know: the mentioning file's own
    directory (notebooks) or one of its parents (scripts run from the project root). The first of
    those that names a file in the tree wins; otherwise the path stays as written.
    """
    if name.startswith("/") or "://" in name or "*" in name:
        return name
    return _nearest(name, mentioned_in, files) or name


def _nearest(name: str, mentioned_in: str, members: frozenset[str]) -> str | None:
    """``name`` taken relative to the mentioning file's directory, then to each of its parents: the
    first such path among ``members`` (the tree's files, or its directories), or None."""
    base = posixpath.dirname(mentioned_in)
    while True:
        candidate = posixpath.normpath(posixpath.join(base, name) if base else name)
        if candidate in members:
            return candidate
        if not base:
            return None
        base = posixpath.dirname(base)


def _assets_for_mention(
    m: ModelMention, value: str, resolved_from: EnvBinding | None, files: frozenset[str]
) -> tuple[list[Asset], list[Relation]] | None:
    scope = scope_of(m.location.path)
    props: dict[str, JSON] = {"via": m.via, **m.properties}
    if m.env_var:
        props["env_var"] = m.env_var
    if resolved_from is not None:
        props["resolved_from"] = resolved_from.location.to_dict()
    assets: list[Asset] = []
    relations: list[Relation] = []
    if m.properties.get("artifact_path"):
        return [], _artifact_links(m, value, files)
    if m.dataset:
        name = identify_dataset(value, via=m.via)
        if name is None:
            return None
        source = str(m.properties.get("source", "huggingface"))
        if source == "file":
            name = _tree_path(name, m.location.path, files)
        ds_props = {k: v for k, v in props.items() if k != "source"}
        if m.revision:
            ds_props["revision"] = m.revision
        ds = dataset_asset(name, source, m.location, scope, **ds_props)
        assets.append(ds)
        if m.owner:
            relations.append(Relation(m.owner, ds.id, RelationKind.READS))
        return assets, relations
    ident = identify_model(value, provider=m.provider, via=m.via, strong=m.strong)
    if ident is None:
        return None
    props["catalog"] = ident.known
    props["basis"] = ident.basis
    model = model_asset(ident.name, ident.provider, m.location, scope, revision=m.revision, properties=props)
    assets.append(model)
    if m.owner:
        relations.append(Relation(m.owner, model.id, m.relation))
    if ident.provider in SAAS_PROVIDERS:
        prov = provider_asset(ident.provider, m.location, scope)
        assets.append(prov)
        relations.append(Relation(model.id, prov.id, RelationKind.DEPENDS_ON))
        if m.owner:
            relations.append(Relation(m.owner, prov.id, RelationKind.CALLS_PROVIDER))
    return assets, relations


#: Files that hold model weights, inside a model directory that code loads as a whole.
_WEIGHT_FILE = re.compile(
    r"(\.(safetensors|bin|pt|pth|ckpt|pkl|pickle|joblib|h5|keras|onnx|gguf|ggml|npz|msgpack|tflite|mlmodel)"
    r"|/saved_model\.pb)$"
)


def _loaded_from_tree(
    mentions: Iterable[ModelMention], files: frozenset[str]
) -> set[tuple[str, int | None, str | None]]:
    """(path, line, value) of the loading calls whose path names an artifact in the tree: the model
    names the same calls yield (``from_pretrained("./models/bert")``) are that artifact, not a hub id."""
    return {
        (m.location.path, m.location.line, m.value)
        for m in mentions
        if m.properties.get("artifact_path")
        and m.value
        and _artifact_targets(m.value, m.location.path, files)
    }


def _artifact_links(m: ModelMention, value: str, files: frozenset[str]) -> list[Relation]:
    """Relations from the code that loads a local artifact to the artifact's asset(s) in the tree.

    A path that names a file links to that file's model asset; one that names a directory (a
    Hugging Face model folder, a SavedModel) links to the directory's asset and to the weight files
    directly in it. Paths outside the tree link to nothing (the inventory drops dangling relations,
    so a link is made only where the collector reported an artifact).
    """
    if m.owner is None:
        return []
    return [
        Relation(m.owner, model_asset(t, "local", None, Scope.PRODUCTION).id, RelationKind.USES_MODEL)
        for t in _artifact_targets(value, m.location.path, files)
    ]


def _artifact_targets(value: str, mentioned_in: str, files: frozenset[str]) -> list[str]:
    """The tree paths whose model assets a loaded path stands for: the file, or the folder and the
    weight files directly in it (none when the folder holds neither weights nor a ``config.json``)."""
    path = _tree_path(value, mentioned_in, files)
    if path in files:
        return [path]
    folder = path.rstrip("/")
    if not folder or folder.startswith("/") or "://" in folder:
        return []
    tree = _index_tree(files)
    folder = _nearest(folder, mentioned_in, tree.dirs) or ""
    if not folder:
        return []
    in_folder = tree.children.get(folder, ())
    weights = [f for f in in_folder if _WEIGHT_FILE.search(f)]
    if not weights and folder + "/config.json" not in files:
        return []
    return [folder, *weights]


@dataclass(frozen=True, slots=True)
class _TreeIndex:
    """The directories of a walked tree, and the files directly in each (sorted)."""

    dirs: frozenset[str]
    children: Mapping[str, tuple[str, ...]]


@functools.lru_cache(maxsize=4)
def _index_tree(files: frozenset[str]) -> _TreeIndex:
    children: dict[str, list[str]] = defaultdict(list)
    dirs: set[str] = set()
    for f in files:
        d = posixpath.dirname(f)
        children[d].append(f)
        while d and d not in dirs:
            dirs.add(d)
            d = posixpath.dirname(d)
    return _TreeIndex(frozenset(dirs), {k: tuple(sorted(v)) for k, v in children.items()})


def run_checks(
    checks: Sequence[Check], inventory: Inventory
) -> tuple[list[Finding], list[CheckRun], list[ScanError]]:
    """Run every check over the assets of its kinds. A check that breaks is recorded, never fatal."""
    findings: dict[str, Finding] = {}
    runs: list[CheckRun] = []
    errors: list[ScanError] = []
    for check in checks:
        assessed = failed = not_assessed = 0
        reasons: set[str] = set()
        for asset in inventory.of_kind(*check.meta.asset_kinds):
            try:
                produced = list(check.evaluate(asset, inventory))
            except NotAssessable as exc:
                not_assessed += 1
                reasons.add(str(exc))
                continue
            except Exception as exc:
                not_assessed += 1
                reasons.add("check failed")
                path = asset.location.path if asset.location else ""
                errors.append(ScanError(path, check.meta.id, ErrorKind.INTERNAL, _describe(exc)))
                continue
            assessed += 1
            if produced:
                failed += 1
            for f in produced:
                findings.setdefault(f.fingerprint, f)
        runs.append(CheckRun(check.meta.id, assessed, failed, not_assessed, "; ".join(sorted(reasons))))
    return list(findings.values()), runs, errors


def _finding_order(f: Finding) -> tuple[int, str, str, int, str]:
    loc = f.location
    return (
        -f.severity.rank,
        f.check_id,
        loc.path if loc else "",
        (loc.line or 0) if loc else 0,
        f.fingerprint,
    )


__all__ = ["ScanOptions", "Scope", "run_checks", "scan"]
