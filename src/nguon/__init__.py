"""nguon: the provincial source-information hub (HTTT nguồn tỉnh)."""

__version__ = "0.1.0"
