"""What the engine reads: Vietnamese written as it is spoken."""

import pytest

from nguon.speech.normalise import normalise


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("UBND TP. Long Xuyên", "uỷ ban nhân dân thành phố long xuyên"),
        ("HĐND TX. Tân Châu", "hội đồng nhân dân thị xã tân châu"),
        ("UBND H. Châu Thành", "uỷ ban nhân dân huyện châu thành"),
        ("TT. Chợ Mới, X. Mỹ Hòa", "thị trấn chợ mới, xã mỹ hòa"),
        ("TP.HCM", "thành phố hồ chí minh"),
        ("gió 60 km/h", "gió sáu mươi ki lô mét trên giờ"),
        ("nhiệt độ 35°C", "nhiệt độ ba mươi lăm độ xê"),
        ("mưa 120 mm", "mưa một trăm hai mươi mi li mét"),
        ("đạt 45%", "đạt bốn mươi lăm phần trăm"),
        (
            "ngày 15/10/2026",
            "ngày mười lăm tháng mười năm hai nghìn không trăm hai mươi sáu",
        ),
        ("lúc 14h30", "lúc mười bốn giờ ba mươi phút"),
        ("từ 7:00", "từ bảy giờ"),
        (
            "ĐT: 0296.3852.123",
            "điện thoại, không hai chín sáu, ba tám năm hai, một hai ba",
        ),
        ("gọi 0912 345 678", "gọi không chín một hai, ba bốn năm, sáu bảy tám"),
    ],
)
def test_vietnamese_is_written_out_as_it_is_read(written: str, spoken: str) -> None:
    assert normalise(written, "vi") == spoken
    assert normalise(written, "vi-VN") == spoken


def test_a_lone_initial_is_not_taken_for_a_district() -> None:
    assert "huyện" not in normalise("ông Nguyễn H. nói", "vi")


@pytest.mark.parametrize("language", ["en", "km", "zh", "hmn"])
def test_other_languages_pass_through_untouched(language: str) -> None:
    text = "Meeting at 14h30, 15/10/2026, TP. Long Xuyên, 60 km/h."
    assert normalise(text, language) == text
