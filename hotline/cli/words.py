"""The CLI's words for people (zh-CN). Identifiers, flags, `#N` ids and JSON stay as they are for scripts.

The domain's refusals are English (logs); the CLI shows the workbench's Chinese sentence for them and, where
that sentence is a general one, the domain's own detail after it so nothing the operator needs is lost."""

from __future__ import annotations

import re

from tickets.errors import DomainError, InvalidInput, NotFound
from tickets.states import ROLE_LABELS_ZH, Role
from web.workbench_text import refusal

_GENERAL = {"输入有误，请检查后重试。", "操作没有成功，请稍后再试。", "请选择一个有效的承办单位。"}
_INPUT = [
    (re.compile(r"unknown department code '([^']*)'"), "没有代码为“{0}”的承办单位（见 config.yml 的 departments）。"),
    (re.compile(r"unknown role '([^']*)'"), "没有“{0}”这个角色，可选：" + "、".join(f"{r.value}（{ROLE_LABELS_ZH[r]}）" for r in Role) + "。"),
    (re.compile(r"role (\w+) needs a department"), "角色 {0} 必须属于一个承办单位（--department CODE）。"),
    (re.compile(r"role (\w+) belongs to the hotline centre"), "角色 {0} 属于热线中心，不能指定 --department。"),
    (re.compile(r"the message is empty"), "诉求内容为空，请填写 --text。"),
    (re.compile(r"the name must not be empty"), "姓名不能为空。"),
    (re.compile(r"an API key named '([^']*)' already exists"), "名为“{0}”的 API 密钥已存在。"),
    (re.compile(r"the key's name must not be empty"), "密钥名称不能为空。"),
    (re.compile(r"username or Telegram id already belongs"), "该登录名或 Telegram id 已被他人使用。"),
]
_MISSING = [
    (re.compile(r"no active staff member with id (\d+)"), "没有在职的工作人员 #{0}（见 hotline staff list）。"),
    (re.compile(r"no staff member with username '([^']*)'"), "没有登录名为“{0}”的工作人员。"),
    (re.compile(r"no API key named '([^']*)'"), "没有名为“{0}”的 API 密钥（见 hotline apikey list）。"),
    (re.compile(r"no citizen '?([^' ]*)'?"), "没有找到群众“{0}”：请给出群众的 id，或 渠道:账号（如 telegram:123456、web:会话号）。"),
]


def refusal_zh(err: DomainError) -> str:
    """One Chinese line for a refusal by the domain."""
    text = str(err)
    if isinstance(err, InvalidInput | NotFound):
        for pattern, chinese in _INPUT + _MISSING:
            found = pattern.search(text)
            if found:
                return chinese.format(*found.groups())
    sentence = refusal(err)
    return f"{sentence.rstrip('。')}（{text}）" if sentence in _GENERAL else sentence


def role_zh(role: str) -> str:
    return ROLE_LABELS_ZH[Role(role)] if role in Role.__members__ else role
