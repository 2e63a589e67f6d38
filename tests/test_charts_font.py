"""Charts render Chinese with the font the Python dependencies ship, on a machine with no CJK font of its own.

The check runs in a fresh interpreter whose matplotlib sees no system font at all: an empty font cache
directory, fontconfig pointed at an empty folder, matplotlib's system font folders emptied, and the
hotline's system-font fallback list emptied. Only matplotlib's own DejaVu and the packaged Noto remain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import json, sys, warnings
from pathlib import Path
import matplotlib
import matplotlib.font_manager as fm
fm.X11FontDirectories[:] = []
fm.OSXFontDirectories[:] = []
fm._get_fontconfig_fonts.cache_clear()
fm.fontManager = fm.FontManager()  # rebuilt now that it can see no system font
fm.findfont = fm.fontManager.findfont
from matplotlib.ft2font import FT2Font
from hotline import charts
charts.SYSTEM_FONTS = ()
mpl_data = Path(matplotlib.get_data_path()).resolve()
visible = sorted({e.fname for e in fm.fontManager.ttflist if not Path(e.fname).resolve().is_relative_to(mpl_data)})
family = charts.cjk_font()
found = fm.findfont(fm.FontProperties(family=family), fallback_to_default=False)
out = Path(sys.argv[1])
week = {"label": "2026-W47"}
report = {
    "period": week, "bottom": ["water"],
    "departments": [
        {"code": "housing", "name": "市住房和城乡建设局", "received": 12, "closed": 9, "rank": 1, "score": 88.5},
        {"code": "water", "name": "市水务局", "received": 5, "closed": 2, "rank": 2, "score": 61.0},
    ],
}
trend = [{"period": {"label": f"2026-W{n}"}, "closure_rate": 0.8, "on_time_rate": 0.7, "satisfaction_rate": 0.9}
         for n in range(36, 48)]
with warnings.catch_warnings():
    warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)" for every tofu box
    files = [charts.trend_chart(trend, out / "trend.png"), charts.received_closed_chart(report, out / "departments.png"),
             charts.ranking_chart(report, out / "ranking.png")]
face = FT2Font(str(found), face_index=getattr(found, "face_index", 0))
text = "近12周办结率按时满意各部门受理量与综合得分排名红色为后三位住房和城乡建设水务局"
print(json.dumps({
    "visible": visible, "family": family, "file": str(found), "face": face.family_name,
    "missing": [c for c in text if face.get_char_index(ord(c)) == 0],
    "files": [str(f) for f in files],
}))
"""


def test_charts_render_chinese_from_the_packaged_font_with_no_system_font(tmp_path: Path) -> None:
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    fonts_conf = tmp_path / "fonts.conf"
    fonts_conf.write_text(f'<?xml version="1.0"?><fontconfig><dir>{empty}</dir>'
                          f"<cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>", encoding="utf-8")
    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path / "mpl"), "FONTCONFIG_FILE": str(fonts_conf)}
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, env=env,
                            cwd=Path(__file__).parent.parent, timeout=240)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["visible"] == []  # no font but matplotlib's own DejaVu before the hotline registers its font
    assert "noto_cjk_sans_otc" in seen["file"] and seen["family"] == seen["face"] == "Noto Sans CJK SC"
    assert seen["missing"] == []
    for name in seen["files"]:
        assert Path(name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
