"""plotly.js once per report, compressed: the HTML stays under 2 MB and opens offline.

plotly.js is 4.8 MB of JavaScript; the report carries it deflated (zlib, about 1.5 MB) in base85
(RFC 1924 alphabet, 25% overhead, no ``/`` so it can never close its ``<script>`` early) inside a
``<script type="application/x-plotly-b85">`` element. A small loader decodes it, inflates it with
the browser's ``DecompressionStream`` (Chromium 80+, Firefox 113+, Safari 16.4+), runs it, then
draws every chart from its JSON (``<script type="application/json" data-chart="<id>">``, with the
one shared Plotly template of ``<script type="application/json" id="report-template">``), and
finally sets ``document.documentElement.dataset.charts = "drawn"`` (what the PDF printer waits
for; ``"failed"`` with the error in ``data-error`` when something went wrong).
"""

from __future__ import annotations

import base64
import zlib
from functools import cache

from plotly.offline import get_plotlyjs

#: Marks the element holding plotly.js (and what the tests look for).
BUNDLE_TYPE = "application/x-plotly-b85"


@cache
def plotly_b85() -> str:
    """plotly.js, deflated and base85-encoded (computed once per process)."""
    return base64.b85encode(zlib.compress(get_plotlyjs().encode("utf-8"), 9)).decode("ascii")


LOADER = r"""
(function () {
  var root = document.documentElement;
  var ALPHA = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";
  function b85(text) {
    var map = new Int16Array(128).fill(-1), i, j;
    for (i = 0; i < ALPHA.length; i++) map[ALPHA.charCodeAt(i)] = i;
    var n = text.length, pad = (5 - n % 5) % 5, out = new Uint8Array(((n + pad) / 5) * 4), o = 0;
    for (i = 0; i < n + pad; i += 5) {
      var acc = 0;
      for (j = 0; j < 5; j++) acc = acc * 85 + (i + j < n ? map[text.charCodeAt(i + j)] : 84);
      out[o++] = (acc >>> 24) & 255; out[o++] = (acc >>> 16) & 255;
      out[o++] = (acc >>> 8) & 255; out[o++] = acc & 255;
    }
    return out.subarray(0, out.length - pad);
  }
  async function load() {
    var data = document.querySelector('script[type="application/x-plotly-b85"]');
    var bytes = b85(data.textContent.trim());
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    var code = await new Response(stream).text();
    var s = document.createElement("script");
    s.text = code;
    document.head.appendChild(s);
    var tpl = document.getElementById("report-template");
    var template = tpl ? JSON.parse(tpl.textContent) : null;
    var charts = document.querySelectorAll('script[type="application/json"][data-chart]');
    for (var k = 0; k < charts.length; k++) {
      var spec = JSON.parse(charts[k].textContent);
      if (template && !spec.layout.template) spec.layout.template = template;
      await Plotly.newPlot(charts[k].dataset.chart, spec.data, spec.layout, spec.config);
    }
    root.dataset.charts = "drawn";
  }
  load().catch(function (e) { root.dataset.charts = "failed"; root.dataset.error = String(e); });
})();
"""


def bundle_html() -> str:
    """The compressed plotly.js and its loader (put at the end of ``<body>``)."""
    return (
        f'<script type="{BUNDLE_TYPE}">{plotly_b85()}</script>'
        f'<script type="text/javascript">{LOADER}</script>'
    )
