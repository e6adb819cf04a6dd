"""The sections a person writes in a report, per outline.

The default follows what 002 Điều 18 and 000/004 Điều 15 ask a report to carry (the results,
the difficulties, the proposals); Lai Châu's follows the outline annexed to its regulation
(001, "ĐỀ CƯƠNG BÁO CÁO"), heading by heading.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str  # as the report prints it


DEFAULT_OUTLINE = "default"
LAI_CHAU_OUTLINE = "lai_chau_2024"

OUTLINES: dict[str, tuple[Section, ...]] = {
    DEFAULT_OUTLINE: (
        Section("assessment", "Đánh giá chung"),
        Section("difficulties", "Khó khăn, vướng mắc"),
        Section("proposals", "Đề xuất, kiến nghị"),
    ),
    LAI_CHAU_OUTLINE: (
        Section("situation", "I. Đặc điểm tình hình"),
        Section(
            "documents",
            "II.1. Công tác xây dựng, ban hành văn bản quản lý, vận hành Cụm thông tin điện tử "
            "công cộng",
        ),
        Section(
            "staffing",
            "II.2. Việc thực hiện bố trí nhân sự quản lý, vận hành Cụm thông tin điện tử công cộng",
        ),
        Section(
            "content",
            "II.3. Xây dựng nội dung chương trình đăng tải trên Cụm thông tin điện tử công cộng",
        ),
        Section(
            "department_programmes",
            "II.4. Thực hiện tổ chức đăng tải chương trình do Sở Thông tin và Truyền thông "
            "cung cấp",
        ),
        Section("funding", "II.5. Kinh phí thực hiện duy trì hằng năm"),
        Section("advantages_difficulties", "III.1. Thuận lợi, khó khăn"),
        Section("shortcomings", "III.2. Hạn chế, tồn tại; nguyên nhân"),
        Section("solutions", "III.3. Giải pháp thực hiện"),
        Section("next_year", "IV. Phương hướng nhiệm vụ năm tới"),
        Section("proposals_province", "V.1. Kiến nghị Ủy ban nhân dân tỉnh"),
        Section("proposals_ministry", "V.2. Kiến nghị Bộ Thông tin và Truyền thông"),
    ),
}
