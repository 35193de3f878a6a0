"""Chat-template injection checks, on real-world templates, published payloads and GGUF files.

GGUF fixtures are written with the real ``gguf`` package. Every template here is only parsed;
the malicious ones carry canary payloads (touch a file) that a test checks never appears.
"""

from __future__ import annotations

import contextlib
import io
import struct
import tempfile
from pathlib import Path

import gguf
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aispm.analysis.artifact_report import FormatResult, Verdict
from aispm.analysis.gguf_template import MAX_TEMPLATE_CHARS, analyze_chat_template, analyze_gguf
from aispm.analysis.model_headers import GGML_TYPES

CANARY = Path(tempfile.gettempdir()) / "aispm-canary-gguf-template"

# --- real chat templates (as published with the models; trimmed where long) ---

LLAMA3 = """{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"""  # noqa: E501

LLAMA31_TOOLS = """{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- if strftime_now is defined %}
        {%- set date_string = strftime_now("%d %b %Y") %}
    {%- else %}
        {%- set date_string = "26 Jul 2024" %}
    {%- endif %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\\n\\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON." }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}
{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
            {{- "<|python_tag|>" + tool_call.name + ".call(" }}
            {%- for arg_name, arg_val in tool_call.arguments | items %}
                {{- arg_name + '="' + arg_val + '"' }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
            {%- endfor %}
            {{- ")" }}
        {%- else  %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
            {{- '{"name": "' + tool_call.name + '", ' }}
            {{- '"parameters": ' }}
            {{- tool_call.arguments | tojson }}
            {{- "}" }}
        {%- endif %}
        {%- if builtin_tools is defined %}
            {{- "<|eom_id|>" }}
        {%- else %}
            {{- "<|eot_id|>" }}
        {%- endif %}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
"""  # noqa: E501

QWEN25 = """{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools>\\n\\nFor each function call, return a json object within <tool_call></tool_call>:\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- message.content }}
        {{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""  # noqa: E501

QWEN3_THINKING = """{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if ns.multi_step_tool and message.role == "user" and message.content is string and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}
        {%- set ns.multi_step_tool = false %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if message.content is string %}
        {%- set content = message.content %}
    {%- else %}
        {%- set content = '' %}
    {%- endif %}
    {%- if message.role == "assistant" %}
        {%- set reasoning_content = '' %}
        {%- if '</think>' in content %}
            {%- set reasoning_content = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}
            {%- set content = content.split('</think>')[-1].lstrip('\\n') %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query_index %}
            {{- '<|im_start|>' + message.role + '\\n<think>\\n' + reasoning_content.strip('\\n') + '\\n</think>\\n\\n' + content.lstrip('\\n') }}
        {%- else %}
            {{- '<|im_start|>' + message.role + '\\n' + content }}
        {%- endif %}
        {{- '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>' + '\\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\\n\\n</think>\\n\\n' }}
    {%- endif %}
{%- endif %}"""  # noqa: E501

MISTRAL = """{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
"""  # noqa: E501

GEMMA = """{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"""  # noqa: E501

PHI3 = """{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}"""  # noqa: E501

DEEPSEEK_R1 = """{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='') %}{%- for message in messages %}{%- if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}{{bos_token}}{{ns.system_prompt}}{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is none %}{%- set ns.is_tool = false -%}{%- for tool in message['tool_calls']%}{%- if not ns.is_first %}{{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}{%- set ns.is_first = true -%}{%- else %}{{'\\n' + '<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}{{'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'}}{%- endif %}{%- endfor %}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is not none %}{%- if ns.is_tool %}{{'<｜tool▁outputs▁end｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- set ns.is_tool = false -%}{%- else %}{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endif %}{%- endfor -%}{% if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}{% endif %}{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜><think>\\n'}}{% endif %}"""  # noqa: E501, RUF001

ZEPHYR_WITH_MACRO = """{% macro render(role, content) -%}
<|{{ role }}|>
{{ content }}{{ eos_token }}
{% endmacro -%}
{%- for message in messages -%}
{{ render(message['role'], message['content']) }}
{%- endfor -%}
{%- if add_generation_prompt %}<|assistant|>
{% endif %}"""

COMMAND_R_STYLE = """{%- macro json_to_python_type(json_spec) %}
{%- set basic_type_map = {"string": "str", "number": "float", "integer": "int", "boolean": "bool"} %}
{%- if basic_type_map[json_spec.type] is defined %}
    {{- basic_type_map[json_spec.type] }}
{%- elif json_spec.type == "array" %}
    {{- "List[" +  json_to_python_type(json_spec.items) + "]" }}
{%- elif json_spec.type == "object" %}
    {{- "Dict[str, " + json_to_python_type(json_spec.additionalProperties) + ']' }}
{%- else %}
    {{- "Any" }}
{%- endif %}
{%- endmacro %}
{%- for tool in tools | sort(attribute='name') %}
def {{ tool.name }}({% for name, spec in tool.parameters.properties.items() %}{{ name }}: {{ json_to_python_type(spec) }}{% if not loop.last %}, {% endif %}{% endfor %}):
{%- endfor %}
{%- set users = messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | list %}
{{ users | length }} user turns; separator {{ '-' * 20 }}; {{ '%s/%d' | format('x', 3) }}; {{ '{} turns'.format(users|length) }}
{%- for m in messages %}{% if loop.index is divisibleby 2 %}{{ loop.cycle('a', 'b') }}{% endif %}{% endfor %}
{%- for i in range(3) %}{% do users.append(i) %}{% if i > 1 %}{% break %}{% endif %}{% endfor %}
{{ dict(a=1) | tojson }} {{ (message['content'] | string)[:10] if message is defined else '' }}"""  # noqa: E501

SMOLLM_GENERATION = """{%- for message in messages %}
{%- if message.role == 'assistant' %}<|im_start|>assistant
{% generation %}{{ message.content }}<|im_end|>{% endgeneration %}
{%- else %}<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{%- endif %}
{%- endfor %}"""

DECOYS = """You can mention __init__.py, os.path, subprocess and config files in plain text.
{{ '__init__.py holds the package; see os.system docs' }}{% set os_version = '14' %}{{ os_version }}
{% set separator = '_' * 10 %}{{ separator }}{{ '__________' }}{{ messages[0]['_meta'] if false else '' }}
{% for message in messages %}{{ message.content | replace('__', '_') }}{% endfor %}
{{ 'Create ' + '__init__.py' }}{{ message_system | default('') }}"""

REAL_TEMPLATES = {
    "llama3": LLAMA3,
    "llama3.1-tools": LLAMA31_TOOLS,
    "qwen2.5": QWEN25,
    "qwen3": QWEN3_THINKING,
    "mistral": MISTRAL,
    "gemma": GEMMA,
    "phi3": PHI3,
    "deepseek-r1": DEEPSEEK_R1,
    "zephyr-macro": ZEPHYR_WITH_MACRO,
    "command-r-style": COMMAND_R_STYLE,
    "smollm-generation": SMOLLM_GENERATION,
    "decoys": DECOYS,
}


@pytest.mark.parametrize("name", sorted(REAL_TEMPLATES))
def test_real_templates_are_safe(name: str) -> None:
    assert analyze_chat_template(REAL_TEMPLATES[name], member=None, key="tokenizer.chat_template") == []


# --- published and constructed payloads ---

C = str(CANARY)
PAYLOADS = {
    # CVE-2024-34359 (llama-cpp-python), the published proof of concept.
    "cve-2024-34359": '{% for x in ().__class__.__base__.__subclasses__() %}{% if "warning" in x.__name__ %}'
    "{{ x()._module.__builtins__['__import__']('os').popen('touch " + C + "') }}{% endif %}{% endfor %}",
    "template-reference": "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('touch "
    + C
    + "').read() }}",
    "lipsum-globals": "{{ lipsum.__globals__['os'].popen('touch " + C + "').read() }}",
    "cycler-globals": "{{ cycler.__init__.__globals__.os.popen('touch " + C + "').read() }}",
    "joiner-globals": "{{ joiner.__init__.__globals__.os }}",
    "namespace-globals": "{{ namespace.__init__.__globals__ }}",
    "attr-concat": "{{ ()|attr('__cla' ~ 'ss__') }}",
    "item-plus": "{{ ''['__cla' + 'ss__'] }}",
    "set-then-attr": "{% set u = '_' * 2 %}{% set c = u ~ 'class' ~ u %}{{ ()|attr(c) }}",
    "percent-format": "{{ ()|attr('%c%cclass%c%c'|format(95, 95, 95, 95)) }}",
    "reversed": "{{ ()|attr('__ssalc__'|reverse) }}",
    "lowered": "{{ ()|attr('__CLASS__'|lower) }}",
    "hex-escapes": "{{ ()|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "adjacent-literals": "{{ ()|attr('__cla' 'ss__') }}",
    "join-method": "{{ ()|attr(''.join(['__cl', 'ass__'])) }}",
    "join-filter": "{{ ()|attr(['__cl', 'ass__']|join) }}",
    "loop-over-names": "{% for a in ['__cla' ~ 'ss__'] %}{{ ()|attr(a) }}{% endfor %}",
    "attr-from-request": "{{ ()|attr(request.args.c) }}",
    "attr-from-message": "{{ ()|attr(messages[0].content) }}",
    "char-harvest": "{{ (()|select|string)[24] }}",
    "str-format-fields": "{{ '{0.__class__.__base__}'.format(messages) }}",
    "map-attribute": "{{ messages|map(attribute='__class__')|list }}",
    "selectattr-dotted": "{{ messages|selectattr('content.__class__')|list }}",
    "dict-keyword": "{{ (dict(__class__=1)|list)[0] }}",
    "mro": "{{ ''.__class__.mro()[1] }}",
    "config": "{{ config.items() }}",
    "os-root": "{{ os.popen('touch " + C + "') }}",
    "import-builtin": "{{ __import__('os').system('touch " + C + "') }}",
    "private-attribute": "{{ messages._private }}",
    "slice-harvest": "{{ (lipsum|string|list)[1:3]|join }}",
}


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payloads_are_critical(name: str) -> None:
    issues = analyze_chat_template(PAYLOADS[name], member="m.gguf", key="tokenizer.chat_template")
    ssti = [i for i in issues if i.rule == "gguf.template-ssti"]
    assert ssti, name
    assert all(i.verdict is Verdict.MALICIOUS and str(i.severity) == "critical" for i in ssti)
    assert ssti[0].member == "m.gguf"
    assert ssti[0].detail["key"] == "tokenizer.chat_template"
    assert not CANARY.exists()


def test_payload_hidden_in_a_real_template() -> None:
    poisoned = QWEN25.replace(
        "{{- tool | tojson }}", "{{- tool | tojson }}{{ cycler.__init__.__globals__.os.popen('id').read() }}"
    )
    issues = analyze_chat_template(poisoned, member=None, key="tokenizer.chat_template.tool_use")
    indicators = {i.detail["indicator"] for i in issues}
    assert {"attribute .__globals__", "call of .popen()"} <= indicators


@pytest.mark.parametrize(
    "template", ["{% include 'other.j2' %}", "{% import 'macros.j2' as m %}", "{% extends 'base.j2' %}"]
)
def test_include_is_suspicious(template: str) -> None:
    issues = analyze_chat_template(template, member=None, key="k")
    assert [i.rule for i in issues] == ["gguf.template-include"]
    assert issues[0].verdict is Verdict.SUSPICIOUS


def test_namespace_called_is_fine_but_used_as_an_object_is_not() -> None:
    assert analyze_chat_template("{% set ns = namespace(a=1) %}{{ ns.a }}", member=None, key="k") == []
    issues = analyze_chat_template("{% set n = namespace %}{{ n }}", member=None, key="k")
    assert [i.detail["indicator"] for i in issues] == ["namespace used as an object"]


def test_assigned_names_are_not_gadget_roots() -> None:
    template = (
        "{% set config = {'a': 1} %}{{ config.a }}{% for self in messages %}{{ self.content }}{% endfor %}"
    )
    assert analyze_chat_template(template, member=None, key="k") == []


def test_unparseable_and_oversized_are_unscannable() -> None:
    broken = analyze_chat_template("{% for m in messages %}{{ m }", member=None, key="k")
    assert [i.rule for i in broken] == ["gguf.template-unparseable"]
    assert broken[0].verdict is Verdict.UNSCANNABLE
    nested = analyze_chat_template("{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}", member=None, key="k")
    assert [i.verdict for i in nested] == [Verdict.UNSCANNABLE]
    big = analyze_chat_template("x" * (MAX_TEMPLATE_CHARS + 1), member=None, key="k")
    assert [i.rule for i in big] == ["gguf.oversized-value"]


def test_unknown_tags_are_unscannable_not_safe() -> None:
    issues = analyze_chat_template("{% frobnicate %}", member=None, key="k")
    assert [i.rule for i in issues] == ["gguf.template-unparseable"]


def test_findings_are_bounded() -> None:
    template = "".join(f"{{{{ x.__a{i}__ }}}}" for i in range(100))
    assert len(analyze_chat_template(template, member=None, key="k")) == 20


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_any_text_gives_issues_not_exceptions(text: str) -> None:
    for issue in analyze_chat_template(text, member=None, key="k"):
        assert issue.rule.startswith("gguf.")


_FRAGMENTS = [
    "{{", "}}", "{%", "%}", "'__", "cla", "ss__'", "~", "+", "|attr(", ")", "(", "x", ".", "[", "]",
    "|format(95)",
    "'%c'", "*", "2", "|reverse", "for", "in", "set", "=", "endfor", "if", "endif",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=40))
def test_fuzz_template_fragments(parts: list[str]) -> None:
    for issue in analyze_chat_template(" ".join(parts), member=None, key="k"):
        assert issue.verdict is not Verdict.SAFE


# --- GGUF files ---


def write_gguf(path: Path, template: str | list[dict[str, str]] | None, *, extra: bool = False) -> bytes:
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("Tiny")
    w.add_context_length(2048)
    w.add_token_list([b"<s>", b"</s>", b"hi"])
    w.add_token_scores([0.0, 0.0, -1.0])
    if template is not None:
        w.add_chat_template(template)
    if extra:
        w.add_string("tokenizer.chat_templatX", "{{ messages }}")
    w.add_tensor("tok_embd.weight", np.ones((4, 32), dtype=np.float32))
    w.add_tensor("output.weight", np.ones((32,), dtype=np.float16))
    q = gguf.quants.quantize(np.ones((2, 64), dtype=np.float32), gguf.GGMLQuantizationType.Q8_0)
    w.add_tensor("blk.0.attn_q.weight", q, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path.read_bytes()


def analyze(data: bytes, member: str | None = None) -> FormatResult:
    return analyze_gguf(io.BytesIO(data), len(data), member)


def test_gguf_with_a_real_template_is_safe(tmp_path: Path) -> None:
    data = write_gguf(tmp_path / "m.gguf", LLAMA31_TOOLS)
    result = analyze(data)
    assert result.issues == ()
    assert result.facts["chat_templates"] == ["tokenizer.chat_template"]
    assert result.facts["tensor_types"] == {"F16": 1, "F32": 1, "Q8_0": 1}
    assert result.facts["parameter_count"] == 128 + 32 + 128
    assert result.facts["architecture"] == "llama"


def test_gguf_without_template(tmp_path: Path) -> None:
    result = analyze(write_gguf(tmp_path / "m.gguf", None))
    assert result.issues == ()
    assert "chat_templates" not in result.facts


def test_gguf_with_a_poisoned_template_is_malicious(tmp_path: Path) -> None:
    data = write_gguf(tmp_path / "m.gguf", PAYLOADS["cve-2024-34359"])
    result = analyze(data, "models/m.gguf")
    assert {i.rule for i in result.issues} == {"gguf.template-ssti"}
    assert all(i.member == "models/m.gguf" for i in result.issues)
    assert not CANARY.exists()


def test_named_templates_are_all_checked(tmp_path: Path) -> None:
    templates = [
        {"name": "default", "template": QWEN25},
        {"name": "tool_use", "template": PAYLOADS["lipsum-globals"]},
        {"name": "rag", "template": MISTRAL},
    ]
    result = analyze(write_gguf(tmp_path / "m.gguf", templates))
    assert result.facts["chat_templates"] == [
        "tokenizer.chat_template",
        "tokenizer.chat_template.rag",
        "tokenizer.chat_template.tool_use",
    ]
    assert {i.detail["key"] for i in result.issues} == {"tokenizer.chat_template.tool_use"}


def test_duplicate_template_key_is_suspicious_and_both_are_read(tmp_path: Path) -> None:
    data = write_gguf(tmp_path / "m.gguf", PAYLOADS["joiner-globals"], extra=True)
    # Rename the second key to the first: a file that holds tokenizer.chat_template twice.
    patched = data.replace(b"tokenizer.chat_templatX", b"tokenizer.chat_template")
    result = analyze(patched)
    rules = {i.rule for i in result.issues}
    assert rules == {"gguf.duplicate-key", "gguf.template-ssti"}
    dup = next(i for i in result.issues if i.rule == "gguf.duplicate-key")
    assert dup.detail["keys"] == ["tokenizer.chat_template"]


def test_oversized_template_is_unscannable(tmp_path: Path) -> None:
    data = write_gguf(tmp_path / "m.gguf", "{{ x }}" + " " * MAX_TEMPLATE_CHARS)
    result = analyze(data)
    assert [i.rule for i in result.issues] == ["gguf.oversized-value"]
    assert result.issues[0].verdict is Verdict.UNSCANNABLE


def test_template_count_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aispm.analysis import gguf_template

    monkeypatch.setattr(gguf_template, "MAX_TEMPLATES", 2)
    templates = [{"name": f"t{i}", "template": "{{ x }}"} for i in range(4)]
    result = analyze(write_gguf(tmp_path / "m.gguf", templates))
    assert [i.rule for i in result.issues] == ["gguf.oversized-value"]


def test_lying_string_length_is_oversized(tmp_path: Path) -> None:
    data = bytearray(write_gguf(tmp_path / "m.gguf", "{{ x }}"))
    key = b"tokenizer.chat_template"
    at = data.index(key) + len(key) + 4  # past the key and the value type
    data[at : at + 8] = struct.pack("<Q", 2**62)
    result = analyze(bytes(data))
    assert [i.rule for i in result.issues] == ["gguf.oversized-value"]


def test_huge_counts_are_oversized() -> None:
    data = b"GGUF" + struct.pack("<IQQ", 3, 1, 2**40)
    assert [i.rule for i in analyze(data).issues] == ["gguf.oversized-value"]


def test_broken_gguf_is_malformed(tmp_path: Path) -> None:
    data = write_gguf(tmp_path / "m.gguf", "{{ x }}")
    for bad in (b"GGUF", b"NOPE" + data[4:], b"GGUF" + struct.pack("<I", 9) + data[8:]):
        assert [i.rule for i in analyze(bad).issues] == ["gguf.malformed"]
    # Cut inside the tensor infos: the metadata is complete, the infos are not.
    cut = data.index(b"blk.0.attn_q.weight") + 10
    assert [i.rule for i in analyze(data[:cut]).issues] == ["gguf.malformed"]


def test_tensor_data_past_the_end_is_malformed(tmp_path: Path) -> None:
    data = write_gguf(tmp_path / "m.gguf", "{{ x }}")
    result = analyze(data[:-64])
    assert [i.rule for i in result.issues] == ["gguf.malformed"]
    assert "past the end" in result.issues[0].message


def test_misaligned_tensor_offset_is_malformed(tmp_path: Path) -> None:
    data = bytearray(write_gguf(tmp_path / "m.gguf", "{{ x }}"))
    name = b"output.weight"
    at = data.index(name) + len(name) + 4 + 8 + 4  # n_dims, one dim, type
    (offset,) = struct.unpack("<Q", data[at : at + 8])
    data[at : at + 8] = struct.pack("<Q", offset + 1)
    result = analyze(bytes(data))
    assert [i.rule for i in result.issues] == ["gguf.malformed"]
    assert "multiple of 32" in result.issues[0].message


def test_ggml_type_table_matches_the_gguf_package() -> None:
    for qtype, (block, size) in gguf.GGML_QUANT_SIZES.items():
        assert GGML_TYPES[int(qtype)][1:] == (block, size), qtype.name
        assert GGML_TYPES[int(qtype)][0] == qtype.name


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=4, max_value=600), st.binary(min_size=1, max_size=8), st.data())
def test_fuzz_mutated_gguf(offset: int, patch: bytes, data: st.DataObject) -> None:
    mutated = bytearray(_SAMPLE)
    end = min(len(mutated), offset + len(patch))
    mutated[offset:end] = patch[: end - offset]
    cut = data.draw(st.integers(min_value=0, max_value=len(mutated)))
    result = analyze(bytes(mutated[:cut]))
    for issue in result.issues:
        assert issue.rule.startswith("gguf.")


def _sample() -> bytes:
    with tempfile.TemporaryDirectory() as d:
        return write_gguf(Path(d) / "s.gguf", GEMMA)


_SAMPLE = _sample()


def teardown_module() -> None:
    with contextlib.suppress(FileNotFoundError):
        assert not CANARY.exists(), "a payload ran"
