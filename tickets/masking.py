"""Masking of personal data in texts shown to the public (政务公开): names, phone numbers,
ID-card numbers and exact house numbers. Every public view calls `mask_personal`."""

from __future__ import annotations

import re

# 18-digit resident ID (last may be X), then 15-digit old IDs.
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|(?<!\d)\d{15}(?!\d)")
# Mobile numbers (optionally +86), landlines with area code, and any other long digit run.
_MOBILE = re.compile(r"(?:\+?86[- ]?)?(?<!\d)1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[- ]?\d{7,8}(?!\d)")
_LONG_DIGITS = re.compile(r"\d{7,}")
# Exact addresses: building / unit / room / house numbers (3号楼2单元501室, 12号, 8栋, 302房).
_HOUSE = re.compile(r"[0-9一二三四五六七八九十零〇百]+(?:-[0-9]+)*\s*(?:号楼|号院|栋|幢|单元|室|号|层|楼|房|户)")
# A name the citizen gives: 我叫王伟 / 本人张三 / 姓名：李四 / 王先生 / 李女士.
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
_NAME_INTRO = re.compile(r"(我叫|我是|本人|姓名[:：]?|名字叫|联系人[:：]?)\s*([" + _SURNAMES + r"][\u4e00-\u9fa5]{1,2})")
_HONORIFIC = re.compile(r"([" + _SURNAMES + r"])[\u4e00-\u9fa5]{0,2}?(先生|女士|小姐|师傅|阿姨|大爷|老师)")


def _stars(match: re.Match[str]) -> str:
    return "*" * len(match.group(0))


def mask_personal(text: str | None) -> str:
    """The text with personal data replaced by asterisks (or a surname and ＊)."""
    if not text:
        return ""
    masked = _ID_CARD.sub(_stars, text)
    masked = _MOBILE.sub(lambda m: "1**********", masked)
    masked = _LANDLINE.sub(_stars, masked)
    masked = _LONG_DIGITS.sub(_stars, masked)
    masked = _HOUSE.sub(lambda m: "**" + _unit(m.group(0)), masked)
    masked = _NAME_INTRO.sub(lambda m: m.group(1) + m.group(2)[0] + "某" * (len(m.group(2)) - 1), masked)
    masked = _HONORIFIC.sub(lambda m: m.group(1) + m.group(2), masked)
    return masked


def _unit(fragment: str) -> str:
    match = re.search(r"(号楼|号院|栋|幢|单元|室|号|层|楼|房|户)$", fragment)
    return match.group(1) if match else ""
