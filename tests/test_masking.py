"""Personal data is masked in everything the public sees."""

from __future__ import annotations

import pytest

from tickets.masking import mask_personal


@pytest.mark.parametrize(
    ("text", "hidden", "kept"),
    [
        ("联系电话13812345678，请回电", "13812345678", "联系电话"),
        ("电话+86 138-1234-5678", "1234", "电话"),
        ("座机0571-88886666", "88886666", "座机"),
        ("本人身份证号110101199001011234。", "110101199001011234", "本人身份证号"),
        ("身份证11010119900101123X", "11010119900101123X", "身份证"),
        ("我叫王伟，住在幸福里小区", "王伟", "我叫王"),
        ("张建国先生反映", "张建国", "张先生"),
        ("幸福里小区3号楼2单元501室漏水", "501", "幸福里小区"),
        ("人民路12号门口垃圾", "12号", "人民路"),
    ],
)
def test_personal_data_is_masked_and_the_rest_kept(text: str, hidden: str, kept: str) -> None:
    masked = mask_personal(text)
    assert hidden not in masked
    assert kept in masked


def test_text_without_personal_data_is_unchanged() -> None:
    text = "建议在人民路增设公交站点，方便周边群众出行。"
    assert mask_personal(text) == text
    assert mask_personal(None) == ""
