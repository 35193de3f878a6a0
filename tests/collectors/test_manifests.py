"""ManifestCollector: AI packages in manifests and lock files of every ecosystem, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aispm.collectors.base import CollectorError, SourceFile, scope_of
from aispm.collectors.manifests import ManifestCollector, parse_requirements
from aispm.model import Asset, AssetKind, ErrorKind
from aispm.pipeline import ScanOptions, scan

COLLECTOR = ManifestCollector()


def _file(tmp_path: Path, rel: str, text: str | bytes) -> SourceFile:
    p = tmp_path / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return SourceFile(p, rel, p.stat().st_size, scope_of(rel))


def _collect(tmp_path: Path, rel: str, text: str | bytes) -> list[Asset]:
    f = _file(tmp_path, rel, text)
    assert COLLECTOR.wants(f), rel
    out = list(COLLECTOR.collect(f))
    assert all(isinstance(a, Asset) and a.kind is AssetKind.PACKAGE for a in out)
    return [a for a in out if isinstance(a, Asset)]


def _by_name(assets: list[Asset]) -> dict[str, Asset]:
    return {a.name: a for a in assets}


def _partial(tmp_path: Path, rel: str, text: str) -> tuple[list[Asset], CollectorError]:
    """What a collector yields before it reports the entries it could not read."""
    f = _file(tmp_path, rel, text)
    got: list[Asset] = []
    with pytest.raises(CollectorError) as info:
        for obs in COLLECTOR.collect(f):
            assert isinstance(obs, Asset)
            got.append(obs)
    return got, info.value


# ---------------------------------------------------------------------------------------------- wants


@pytest.mark.parametrize(
    "rel",
    [
        "requirements.txt", "requirements-dev.txt", "dev-requirements.txt", "requirements/base.txt",
        "requirements/prod.in", "requirements.in", "constraints.txt", "svc/pyproject.toml", "Pipfile",
        "Pipfile.lock", "poetry.lock", "uv.lock", "web/package.json", "package-lock.json", "yarn.lock",
        "pnpm-lock.yaml", "pom.xml", "build.gradle", "app/build.gradle.kts", "gradle/libs.versions.toml",
        "go.mod", "Cargo.toml", "Cargo.lock", "Gemfile", "src/App.csproj", "Directory.Packages.props",
        "node_modules/openai/package.json",
    ],
)  # fmt: skip
def test_wants_manifests(tmp_path: Path, rel: str) -> None:
    assert COLLECTOR.wants(_file(tmp_path, rel, ""))


@pytest.mark.parametrize(
    "rel", ["MANIFEST.in", "config.h.in", "notes.txt", "package.yaml", "setup.py", "go.sum"]
)
def test_does_not_want_other_files(tmp_path: Path, rel: str) -> None:
    assert not COLLECTOR.wants(_file(tmp_path, rel, ""))


# ---------------------------------------------------------------------------------------------- Python


REQUIREMENTS = """\
# AI stack
-r base.txt
--constraint constraints.txt
--index-url https://pypi.org/simple
openai==1.54.3 \\
    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000
LangChain_OpenAI>=0.2,<0.4  # inline comment
anthropic[vertex]>=0.40 ; python_version >= "3.9"
# torch==2.4.0
requests==2.32.3
openapi==1.0.0
ai-utils==0.1
langchainjs-docs==1.0
-e git+https://github.com/huggingface/transformers.git@main#egg=transformers
https://example.com/wheels/sentence_transformers-3.0.1-py3-none-any.whl
https://example.com/archive/openai-tools.zip
./local/path
chromadb
"""


def test_requirements_positives_and_decoys(tmp_path: Path) -> None:
    got = _by_name(_collect(tmp_path, "requirements.txt", REQUIREMENTS))
    assert set(got) == {
        "openai",
        "langchain-openai",
        "anthropic",
        "transformers",
        "sentence-transformers",
        "chromadb",
    }
    openai = got["openai"].properties
    assert openai["version"] == "1.54.3" and openai["hashed"] is True
    assert openai["purl"] == "pkg:pypi/openai@1.54.3"
    assert openai["category"] == "provider-sdk" and openai["provider"] == "openai"
    assert openai["includes"] == ["base.txt", "constraints.txt"]  # recorded, not followed
    assert got["openai"].location is not None and got["openai"].location.line == 5
    lc = got["langchain-openai"].properties
    assert lc["version"] is None and lc["spec"] == "<0.4,>=0.2" and lc["purl"] == "pkg:pypi/langchain-openai"
    assert got["anthropic"].properties["extras"] == ["vertex"]
    assert got["anthropic"].properties["marker"] == 'python_version >= "3.9"'
    assert got["transformers"].properties["editable"] is True
    assert got["sentence-transformers"].properties["version"] == "3.0.1"
    assert got["chromadb"].properties["dev"] is False
    assert "torch" not in got  # commented out


def test_requirements_bad_line_is_reported_after_the_good_ones(tmp_path: Path) -> None:
    got, err = _partial(tmp_path, "requirements.txt", "openai==1.0\nthis is not a requirement!!\nollama\n")
    assert [a.name for a in got] == ["openai", "ollama"]
    assert err.kind is ErrorKind.PARSE and "line 2" in str(err)


def test_requirements_too_big_is_a_limit_error(tmp_path: Path) -> None:
    f = _file(tmp_path, "requirements.txt", "openai\n" * (5 * 1024 * 1024 // 7))
    with pytest.raises(CollectorError) as info:
        list(COLLECTOR.collect(f))
    assert info.value.kind is ErrorKind.LIMIT


_NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,8}(?:[-_.][A-Za-z0-9]{1,8}){0,2}", fullmatch=True)
_VERSION = st.from_regex(r"[0-9]{1,3}\.[0-9]{1,3}(?:\.[0-9]{1,3})?", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_requirements_parser_never_raises(text: str) -> None:
    parsed = parse_requirements(text)
    for r in parsed.requirements:
        assert r.name and r.line >= 1


@settings(max_examples=100, deadline=None)
@given(
    names=st.lists(_NAME, min_size=1, max_size=8, unique_by=str.lower),
    versions=st.lists(_VERSION, min_size=8, max_size=8),
    ops=st.lists(st.sampled_from(["==", ">=", "~=", "<", ""]), min_size=8, max_size=8),
    comments=st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_requirements_parser_recovers_every_requirement(
    names: list[str], versions: list[str], ops: list[str], comments: list[bool]
) -> None:
    lines = []
    for i, name in enumerate(names):
        spec = f"{ops[i]}{versions[i]}" if ops[i] else ""
        lines.append(f"# {name}==0.0.1" if comments[i] else f"{name}{spec}")
    parsed = parse_requirements("\n".join(lines) + "\n")
    expected = [n for n, c in zip(names, comments, strict=False) if not c]
    assert [r.name for r in parsed.requirements] == expected
    assert parsed.problems == []
    for r in parsed.requirements:
        i = names.index(r.name)
        assert r.version == (versions[i] if ops[i] == "==" else None)


PYPROJECT = """\
[project]
name = "svc"
dependencies = [
  "openai>=1.40",
  "langgraph==0.2.50",
  "httpx",
]

[project.optional-dependencies]
vector = ["qdrant-client>=1.9"]
test = ["deepeval==1.0.0"]

[dependency-groups]
dev = ["langsmith>=0.1", {include-group = "lint"}]
lint = ["ruff"]

[tool.poetry.dependencies]
python = "^3.11"
anthropic = "^0.40"
mistralai = "1.2.3"
cohere = { version = "==5.0.0", extras = ["aws"] }

[tool.poetry.group.dev.dependencies]
wandb = "*"
"""


def test_pyproject_all_sections(tmp_path: Path) -> None:
    got = _by_name(_collect(tmp_path, "pyproject.toml", PYPROJECT))
    assert set(got) == {"openai", "langgraph", "qdrant-client", "deepeval", "langsmith", "anthropic",
                        "mistralai", "cohere", "wandb"}  # fmt: skip
    assert got["langgraph"].properties["version"] == "0.2.50"
    assert got["openai"].properties["version"] is None and got["openai"].properties["spec"] == ">=1.40"
    assert (
        got["qdrant-client"].properties["group"] == "vector"
        and got["qdrant-client"].properties["dev"] is False
    )
    assert got["deepeval"].properties["dev"] is True
    assert got["langsmith"].properties["dev"] is True
    assert got["mistralai"].properties["version"] == "1.2.3"  # Poetry: a bare version is exact
    assert got["anthropic"].properties["version"] is None
    assert got["cohere"].properties["version"] == "5.0.0" and got["cohere"].properties["extras"] == ["aws"]
    assert got["wandb"].properties["dev"] is True
    assert got["openai"].location is not None and got["openai"].location.line == 4
    assert got["anthropic"].location is not None and got["anthropic"].location.line == 19


def test_bad_toml_is_a_parse_error(tmp_path: Path) -> None:
    f = _file(tmp_path, "pyproject.toml", "[project\ndependencies = [\n")
    with pytest.raises(CollectorError) as info:
        list(COLLECTOR.collect(f))
    assert info.value.kind is ErrorKind.PARSE and "TOML" in str(info.value)


def test_pipfile_and_lock(tmp_path: Path) -> None:
    pipfile = (
        '[packages]\nopenai = "*"\nlitellm = "==1.50.0"\nflask = "*"\n\n[dev-packages]\nlangfuse = ">=2"\n'
    )
    got = _by_name(_collect(tmp_path, "Pipfile", pipfile))
    assert set(got) == {"openai", "litellm", "langfuse"}
    assert got["openai"].properties["spec"] is None and got["litellm"].properties["version"] == "1.50.0"
    assert got["langfuse"].properties["dev"] is True
    lock = {
        "_meta": {},
        "default": {"openai": {"version": "==1.54.0"}, "flask": {"version": "==3.0.0"}},
        "develop": {"langfuse": {"version": "==2.1.0"}},
    }
    got = _by_name(_collect(tmp_path, "Pipfile.lock", json.dumps(lock, indent=2)))
    assert {n: a.properties["version"] for n, a in got.items()} == {"openai": "1.54.0", "langfuse": "2.1.0"}
    assert got["langfuse"].properties["dev"] is True


def test_poetry_and_uv_locks(tmp_path: Path) -> None:
    poetry = (
        '[[package]]\nname = "openai"\nversion = "1.54.0"\ncategory = "main"\n\n'
        '[[package]]\nname = "pytest"\nversion = "8.0.0"\ncategory = "dev"\n\n'
        '[[package]]\nname = "langsmith"\nversion = "0.1.0"\ngroups = ["dev"]\n'
    )
    got = _by_name(_collect(tmp_path, "poetry.lock", poetry))
    assert set(got) == {"openai", "langsmith"}
    assert got["openai"].properties["version"] == "1.54.0" and got["openai"].properties["dev"] is False
    assert got["langsmith"].properties["dev"] is True
    assert got["langsmith"].location is not None and got["langsmith"].location.line == 12
    uv = """\
version = 1

[[package]]
name = "svc"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "anthropic" }]
[package.dev-dependencies]
dev = [{ name = "langfuse" }]

[[package]]
name = "anthropic"
version = "0.40.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "langfuse"
version = "2.0.0"
source = { registry = "https://pypi.org/simple" }
"""
    got = _by_name(_collect(tmp_path, "uv.lock", uv))
    assert {n: (a.properties["version"], a.properties["dev"]) for n, a in got.items()} == {
        "anthropic": ("0.40.0", False),
        "langfuse": ("2.0.0", True),
    }


def test_manifest_and_lock_merge_only_when_versions_agree(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("openai>=1.0\nanthropic==0.40.0\n")
    lock = '[[package]]\nname = "openai"\nversion = "1.54.0"\n\n'
    lock += '[[package]]\nname = "anthropic"\nversion = "0.40.0"\n'
    (tmp_path / "poetry.lock").write_text(lock)
    r = scan([tmp_path], ScanOptions(collectors=["manifests"], checks=[]))
    pkgs = sorted((a.name, a.properties["version"] or "", len(a.occurrences)) for a in r.assets)
    assert pkgs == [("anthropic", "0.40.0", 2), ("openai", "", 1), ("openai", "1.54.0", 1)]
    assert r.errors == ()


# ---------------------------------------------------------------------------------------------- npm


PACKAGE_JSON = {
    "name": "chat-app",
    "dependencies": {
        "ai": "^4.0.0",
        "@ai-sdk/openai": "1.0.5",
        "openapi": "1.0.0",
        "@aiven/client": "2.0.0",
        "langchainjs-docs": "1.0.0",
        "my-anthropic": "npm:@anthropic-ai/sdk@0.30.1",
        "react": "18.0.0",
    },
    "devDependencies": {"langsmith": "~0.1.0"},
    "peerDependencies": {"@langchain/core": ">=0.3"},
}


def test_package_json(tmp_path: Path) -> None:
    got = _by_name(_collect(tmp_path, "package.json", json.dumps(PACKAGE_JSON, indent=2)))
    assert set(got) == {"ai", "@ai-sdk/openai", "@anthropic-ai/sdk", "langsmith", "@langchain/core"}
    assert got["ai"].properties["version"] is None and got["ai"].properties["spec"] == "^4.0.0"
    sdk = got["@ai-sdk/openai"].properties
    assert sdk["version"] == "1.0.5" and sdk["purl"] == "pkg:npm/%40ai-sdk/openai@1.0.5"
    assert sdk["provider"] == "openai"
    assert got["@anthropic-ai/sdk"].properties["version"] == "0.30.1"  # an npm: alias names the real package
    assert got["langsmith"].properties["dev"] is True
    assert got["@langchain/core"].properties["dependency_type"] == "peerDependencies"
    assert got["ai"].location is not None and got["ai"].location.line == 4


def test_installed_package_json_is_the_package_itself(tmp_path: Path) -> None:
    doc = {"name": "openai", "version": "4.67.3", "dependencies": {"@anthropic-ai/sdk": "^0.30"}}
    got = _by_name(_collect(tmp_path, "node_modules/openai/package.json", json.dumps(doc, indent=2)))
    assert {n: a.properties["version"] for n, a in got.items()} == {"openai": "4.67.3"}
    assert got["openai"].properties["installed"] is True and got["openai"].scope.value == "vendored"
    other = {"name": "left-pad", "version": "1.3.0", "dependencies": {"openai": "^4"}}
    assert _collect(tmp_path, "node_modules/left-pad/package.json", json.dumps(other)) == []


def test_package_json_broken_and_wrong_shape(tmp_path: Path) -> None:
    with pytest.raises(CollectorError, match="invalid JSON"):
        list(COLLECTOR.collect(_file(tmp_path, "package.json", '{"dependencies": {"openai": ')))
    with pytest.raises(CollectorError, match="not a JSON object"):
        list(COLLECTOR.collect(_file(tmp_path, "a/package.json", '["openai"]')))


def test_package_lock_v1_v2_v3(tmp_path: Path) -> None:
    v3 = {
        "lockfileVersion": 3,
        "packages": {
            "": {"name": "app", "dependencies": {"openai": "^4"}},
            "node_modules/openai": {"version": "4.67.3"},
            "node_modules/@langchain/openai": {"version": "0.3.0", "dev": True},
            "node_modules/foo/node_modules/ollama": {"version": "0.5.0"},
            "node_modules/left-pad": {"version": "1.3.0"},
        },
    }
    got = _by_name(_collect(tmp_path, "package-lock.json", json.dumps(v3, indent=2)))
    assert {n: a.properties["version"] for n, a in got.items()} == {
        "openai": "4.67.3",
        "@langchain/openai": "0.3.0",
        "ollama": "0.5.0",
    }
    assert got["@langchain/openai"].properties["dev"] is True
    v1 = {
        "lockfileVersion": 1,
        "dependencies": {
            "openai": {"version": "3.3.0", "dependencies": {"groq-sdk": {"version": "0.3.0", "dev": True}}},
            "left-pad": {"version": "1.3.0"},
        },
    }
    got = _by_name(_collect(tmp_path, "v1/package-lock.json", json.dumps(v1, indent=2)))
    assert {n: a.properties["version"] for n, a in got.items()} == {"openai": "3.3.0", "groq-sdk": "0.3.0"}
    assert got["groq-sdk"].properties["dev"] is True


YARN_V1 = """\
# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


"@ai-sdk/openai@^1.0.0", "@ai-sdk/openai@^1.0.1":
  version "1.0.5"
  resolved "https://registry.yarnpkg.com/@ai-sdk/openai/-/openai-1.0.5.tgz"

left-pad@^1.3.0:
  version "1.3.0"

openai@4.67.3:
  version "4.67.3"
"""

YARN_BERRY = """\
__metadata:
  version: 8
  cacheKey: 10c0

"@anthropic-ai/sdk@npm:^0.30.0":
  version: 0.30.1
  resolution: "@anthropic-ai/sdk@npm:0.30.1"

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."

"ai@npm:^4.0.0, ai@npm:^4.0.1":
  version: 4.0.3
  resolution: "ai@npm:4.0.3"
"""


def test_yarn_lock_classic_and_berry(tmp_path: Path) -> None:
    got = _by_name(_collect(tmp_path, "yarn.lock", YARN_V1))
    assert {n: a.properties["version"] for n, a in got.items()} == {
        "@ai-sdk/openai": "1.0.5",
        "openai": "4.67.3",
    }
    assert got["@ai-sdk/openai"].location is not None and got["@ai-sdk/openai"].location.line == 5
    got = _by_name(_collect(tmp_path, "b/yarn.lock", YARN_BERRY))
    assert {n: a.properties["version"] for n, a in got.items()} == {
        "@anthropic-ai/sdk": "0.30.1",
        "ai": "4.0.3",
    }


def test_yarn_lock_garbage_is_reported(tmp_path: Path) -> None:
    got, err = _partial(tmp_path, "yarn.lock", 'openai@^4:\n  version "4.0.0"\n{"not": "yarn"}\n')
    assert [a.name for a in got] == ["openai"]
    assert "line 3" in str(err)


def test_pnpm_lock_versions(tmp_path: Path) -> None:
    v9 = """\
lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      openai:
        specifier: ^4.0.0
        version: 4.67.3
    devDependencies:
      langsmith:
        specifier: ^0.1.0
        version: 0.1.68
packages:
  openai@4.67.3:
    resolution: {integrity: sha512-x}
  '@ai-sdk/openai@1.0.5(zod@3.23.8)':
    resolution: {integrity: sha512-y}
  langsmith@0.1.68:
    resolution: {integrity: sha512-z}
  left-pad@1.3.0:
    resolution: {integrity: sha512-w}
"""
    got = _by_name(_collect(tmp_path, "pnpm-lock.yaml", v9))
    assert {n: a.properties["version"] for n, a in got.items()} == {
        "openai": "4.67.3",
        "@ai-sdk/openai": "1.0.5",
        "langsmith": "0.1.68",
    }
    assert got["langsmith"].properties["dev"] is True
    assert got["@ai-sdk/openai"].location is not None and got["@ai-sdk/openai"].location.line == 15
    v5 = "lockfileVersion: 5.4\npackages:\n"
    v5 += "  /@anthropic-ai/sdk/0.30.1_zod@3.0.0:\n    dev: false\n  /ollama/0.5.0:\n    dev: true\n"
    got = _by_name(_collect(tmp_path, "v5/pnpm-lock.yaml", v5))
    assert {n: (a.properties["version"], a.properties["dev"]) for n, a in got.items()} == {
        "@anthropic-ai/sdk": ("0.30.1", False),
        "ollama": ("0.5.0", True),
    }


def test_pnpm_lock_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(CollectorError, match="YAML"):
        list(COLLECTOR.collect(_file(tmp_path, "pnpm-lock.yaml", "packages:\n  - [unclosed\n")))


# ---------------------------------------------------------------------------------------------- JVM, .NET

POM = """\
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <groupId>com.example</groupId>
  <version>1.0.0</version>
  <properties>
    <langchain4j.version>0.36.2</langchain4j.version>
  </properties>
  <dependencies>
    <dependency>
      <groupId>dev.langchain4j</groupId>
      <artifactId>langchain4j-open-ai</artifactId>
      <version>${langchain4j.version}</version>
    </dependency>
    <dependency>
      <groupId>com.openai</groupId>
      <artifactId>openai-java</artifactId>
      <version>[0.8,1.0)</version>
    </dependency>
    <dependency>
      <groupId>org.springframework.ai</groupId>
      <artifactId>spring-ai-openai-spring-boot-starter</artifactId>
      <scope>test</scope>
    </dependency>
    <dependency>
      <groupId>org.springframework</groupId>
      <artifactId>spring-core</artifactId>
      <version>6.0.0</version>
    </dependency>
  </dependencies>
</project>
"""


def test_pom(tmp_path: Path) -> None:
    got = _by_name(_collect(tmp_path, "pom.xml", POM))
    assert set(got) == {
        "dev.langchain4j:langchain4j-open-ai",
        "com.openai:openai-java",
        "org.springframework.ai:spring-ai-openai-spring-boot-starter",
    }
    lc = got["dev.langchain4j:langchain4j-open-ai"].properties
    assert lc["version"] == "0.36.2" and lc["purl"] == "pkg:maven/dev.langchain4j/langchain4j-open-ai@0.36.2"
    assert lc["provider"] == "openai" and lc["spec"] == "${langchain4j.version}"
    assert got["com.openai:openai-java"].properties["version"] is None  # a range
    assert got["org.springframework.ai:spring-ai-openai-spring-boot-starter"].properties["dev"] is True
    assert got["com.openai:openai-java"].location is not None
    assert got["com.openai:openai-java"].location.line == 16


@pytest.mark.parametrize(
    "payload",
    [
        # XXE: an external entity reading a local file.
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<project><dependencies><dependency><groupId>&x;</groupId><artifactId>a</artifactId>"
        "</dependency></dependencies></project>",
        # Billion laughs: exponential entity expansion.
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        "<project>&lol3;</project>",
        # A DTD alone is refused too.
        '<?xml version="1.0"?><!DOCTYPE project SYSTEM "http://example.com/p.dtd"><project/>',
    ],
)
def test_pom_with_dtd_or_entities_is_refused(tmp_path: Path, payload: str) -> None:
    with pytest.raises(CollectorError) as info:
        list(COLLECTOR.collect(_file(tmp_path, "pom.xml", payload)))
    assert info.value.kind is ErrorKind.PARSE and "refused" in str(info.value)


def test_pom_broken_xml(tmp_path: Path) -> None:
    with pytest.raises(CollectorError, match="invalid XML"):
        list(COLLECTOR.collect(_file(tmp_path, "pom.xml", "<project><dependencies></project>")))


def test_gradle_groovy_kotlin_and_version_catalog(tmp_path: Path) -> None:
    groovy = """\
dependencies {
    implementation 'dev.langchain4j:langchain4j:0.36.2'
    implementation "com.google.guava:guava:33.0.0-jre"
    testImplementation group: 'ai.djl', name: 'api', version: '0.30.0'
    // implementation 'com.openai:openai-java:0.1.0'
    implementation "com.anthropic:anthropic-java:$anthropicVersion"
}
"""
    got = _by_name(_collect(tmp_path, "build.gradle", groovy))
    assert set(got) == {"dev.langchain4j:langchain4j", "ai.djl:api", "com.anthropic:anthropic-java"}
    assert got["dev.langchain4j:langchain4j"].properties["version"] == "0.36.2"
    assert got["ai.djl:api"].properties["dev"] is True
    assert got["com.anthropic:anthropic-java"].properties["version"] is None
    kts = 'dependencies {\n    implementation(platform("dev.langchain4j:langchain4j-bom:1.0.0"))\n'
    kts += '    implementation("org.springframework.ai:spring-ai-starter-model-openai")\n}\n'
    got = _by_name(_collect(tmp_path, "app/build.gradle.kts", kts))
    assert set(got) == {
        "dev.langchain4j:langchain4j-bom",
        "org.springframework.ai:spring-ai-starter-model-openai",
    }
    catalog = """\
[versions]
lc4j = "0.36.2"

[libraries]
lc4j-openai = { module = "dev.langchain4j:langchain4j-open-ai", version.ref = "lc4j" }
guava = "com.google.guava:guava:33.0.0-jre"
"""
    got = _by_name(_collect(tmp_path, "gradle/libs.versions.toml", catalog))
    assert {n: a.properties["version"] for n, a in got.items()} == {
        "dev.langchain4j:langchain4j-open-ai": "0.36.2"
    }


def test_csproj(tmp_path: Path) -> None:
    csproj = """\
<Project Sdk="Microsoft.NET.Sdk">
  <ItemGroup>
    <PackageReference Include="Azure.AI.OpenAI" Version="2.1.0" />
    <PackageReference Include="Microsoft.SemanticKernel">
      <Version>[1.30.0]</Version>
    </PackageReference>
    <PackageReference Include="Newtonsoft.Json" Version="13.0.3" />
    <PackageReference Include="OpenAI" Version="[2.0,3.0)" />
  </ItemGroup>
</Project>
"""
    got = _by_name(_collect(tmp_path, "src/App.csproj", csproj))
    assert {n: a.properties["version"] for n, a in got.items()} == {
        "Azure.AI.OpenAI": "2.1.0",
        "Microsoft.SemanticKernel": "1.30.0",
        "OpenAI": None,
    }
    assert got["Azure.AI.OpenAI"].properties["purl"] == "pkg:nuget/Azure.AI.OpenAI@2.1.0"
    assert got["Azure.AI.OpenAI"].properties["provider"] == "azure-openai"


# ------------------------------------------------------------------------------------------ Go, Rust, Ruby


def test_go_mod(tmp_path: Path) -> None:
    gomod = """\
module example.com/svc

go 1.22

require github.com/sashabaranov/go-openai v1.32.0

require (
\tgithub.com/openai/openai-go/v2 v2.1.0
\tgithub.com/tmc/langchaingo v0.1.12 // indirect
\tgithub.com/spf13/cobra v1.8.0
)
"""
    got = _by_name(_collect(tmp_path, "go.mod", gomod))
    assert {n: a.properties["version"] for n, a in got.items()} == {
        "github.com/sashabaranov/go-openai": "v1.32.0",
        "github.com/openai/openai-go/v2": "v2.1.0",
        "github.com/tmc/langchaingo": "v0.1.12",
    }
    assert got["github.com/tmc/langchaingo"].properties["indirect"] is True
    assert got["github.com/sashabaranov/go-openai"].properties["purl"] == (
        "pkg:golang/github.com/sashabaranov/go-openai@v1.32.0"
    )


def test_go_mod_unterminated_block(tmp_path: Path) -> None:
    got, err = _partial(tmp_path, "go.mod", "module x\nrequire (\n\tgithub.com/ollama/ollama v0.4.0\n")
    assert [a.name for a in got] == ["github.com/ollama/ollama"]
    assert "unterminated" in str(err)


def test_cargo(tmp_path: Path) -> None:
    cargo = """\
[package]
name = "svc"

[dependencies]
async-openai = "0.25"
candle = { package = "candle-core", version = "=0.8.0" }
serde = "1"

[dev-dependencies]
rmcp = { version = "0.1" }
"""
    got = _by_name(_collect(tmp_path, "Cargo.toml", cargo))
    assert {n: (a.properties["version"], a.properties["dev"]) for n, a in got.items()} == {
        "async-openai": (None, False),
        "candle-core": ("0.8.0", False),
        "rmcp": (None, True),
    }
    lock = '[[package]]\nname = "async-openai"\nversion = "0.25.0"\n\n'
    lock += '[[package]]\nname = "serde"\nversion = "1.0.0"\n'
    got = _by_name(_collect(tmp_path, "Cargo.lock", lock))
    assert {n: a.properties["version"] for n, a in got.items()} == {"async-openai": "0.25.0"}


def test_gemfile(tmp_path: Path) -> None:
    gemfile = """\
source "https://rubygems.org"
gem "rails", "~> 7.1"
gem "ruby-openai", "7.3.1"
# gem "anthropic"
group :development, :test do
  gem "langchainrb", "~> 0.19"
end
gem 'anthropic', '>= 0.3', '< 1'
"""
    got = _by_name(_collect(tmp_path, "Gemfile", gemfile))
    assert {n: (a.properties["version"], a.properties["dev"]) for n, a in got.items()} == {
        "ruby-openai": ("7.3.1", False),
        "langchainrb": (None, True),
        "anthropic": (None, False),
    }
    assert got["anthropic"].properties["spec"] == ">= 0.3, < 1"


# ---------------------------------------------------------------------------------------------- pipeline


def test_pipeline_records_errors_and_goes_on(tmp_path: Path) -> None:
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "requirements.txt").write_text("openai==1.0.0\n")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "package.json").write_text("{oops")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "requirements.txt").write_text("anthropic\n")
    r = scan([tmp_path], ScanOptions(collectors=["manifests"], checks=[]))
    assert {(a.name, a.scope.value) for a in r.assets} == {("openai", "production"), ("anthropic", "test")}
    assert [(e.path, e.kind) for e in r.errors] == [("bad/package.json", ErrorKind.PARSE)]
