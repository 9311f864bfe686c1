"""In real Chromium: opening the Embedding map (jupyter-scatter) restyles nothing outside it, and
the map fits its tab (issue 32, item 2).

jupyter-scatter's stylesheet is Tailwind's, with its unscoped preflight (``*``, ``html``,
``button``, ``table``...); h5eval_widgets.views._scatter_style keeps it inside the map's box.
"""

from __future__ import annotations

import pytest

from tests.test_browser import (  # noqa: F401  (fixtures: the demo's Voila server, Chromium, its page)
    CHROMIUM,
    MAP_API_JS,
    browser,
    open_map,
    open_tab,
    page,
    server,
    wait_until_settled,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)"),
]

#: The map's box: the figure (a widget box) that holds jupyter-scatter's widget, found from the
#: widget's element (the one with regl-scatterplot's ``api``), with or without a scoping class.
MAP_BOX_JS = f"() => ({MAP_API_JS})()?.closest('.widget-box')"

#: The computed ``properties`` of the page's elements outside the map, html and body included,
#: and of their ::before and ::after where these are drawn; kept in the page under
#: ``window[key]``. Only a count goes back to Python.
RECORD_JS = """([key, properties]) => {
    const map = (MAP_BOX_JS)();
    const els = [document.documentElement, document.body, ...document.body.querySelectorAll('*')];
    const styles = new Map();
    const read = cs => Object.fromEntries(properties.map(p => [p, cs.getPropertyValue(p)]));
    for (const e of els) {
        if (map && map.contains(e)) continue;
        styles.set(e, [read(getComputedStyle(e))]);
        for (const pseudo of ['::before', '::after']) {
            const cs = getComputedStyle(e, pseudo);
            if (!['none', 'normal'].includes(cs.content)) styles.get(e).push(read(cs));
        }
    }
    window[key] = styles;
    return styles.size;
}""".replace("(MAP_BOX_JS)", f"({MAP_BOX_JS})")

#: What differs between two records (``[before, after, properties, skip]``: their keys, the
#: properties compared, all recorded when null, and a selector of elements left out, none when null), for
#: the elements in both and still outside the map: up to 12 of them named, with their properties
#: before -> after, and how many elements differ in all.
DIFF_JS = """([before, after, only, skip]) => {
    const a = window[before], b = window[after], changed = [];
    for (const [e, styles] of a) {
        if (!b.has(e) || (skip && e.closest(skip))) continue;
        const now = b.get(e), diff = {};
        styles.forEach((s, n) => {
            for (const p in s) if ((only === null || only.includes(p)) && now[n]?.[p] !== s[p])
                diff[(n ? (n == 1 ? '::before ' : '::after ') : '') + p] = `${s[p]} -> ${now[n]?.[p]}`;
        });
        if (Object.keys(diff).length) {
            const name = e.tagName.toLowerCase() + [...e.classList].map(c => '.' + c).join('');
            changed.push({element: `${name} "${(e.textContent || '').trim().slice(0, 30)}"`, diff});
        }
    }
    return {count: changed.length, first: changed.slice(0, 12)};
}"""

#: Properties that do not depend on which tab is shown (the map's tab shown hides the others,
#: whose boxes then have no size, nor a minimum width): fonts, spacing, borders, box sizing, how
#: overflow is shown.
NOT_LAYOUT = [
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "line-height",
    "letter-spacing",
    "tab-size",
    "text-size-adjust",
    *(f"{box}-{side}" for box in ("padding", "margin") for side in ("top", "right", "bottom", "left")),
    *(f"border-{side}-{p}" for side in ("top", "right", "bottom", "left") for p in ("width", "style", "color")),
    "border-top-left-radius",
    "border-bottom-right-radius",
    "border-collapse",
    "box-sizing",
    "max-width",
    "overflow-x",
    "overflow-y",
    "white-space",
    "text-overflow",
    "vertical-align",
    "list-style-type",
    "appearance",
    "background-color",
    "color",
    "text-decoration-line",
    "text-transform",
    "text-indent",
    "text-align",
    "word-spacing",
    "font-feature-settings",
    "font-variation-settings",
    "-webkit-tap-highlight-color",
    "outline-style",
    "opacity",
    "cursor",
]
#: What is recorded: those, and how the boxes are laid out and sized. (Reading every property of
#: every element took 30 s a record on this 2-core machine; these take about 1 s.)
PROPERTIES = [
    *NOT_LAYOUT,
    "display",
    "position",
    "float",
    "flex-grow",
    "flex-shrink",
    "flex-basis",
    "width",
    "height",
    "min-width",
    "min-height",
    "max-height",
    "transform-origin",
]

#: The map's canvases drawn (with a size), each with the boxes it must lie in: the tab's contents
#: and every ancestor that clips (overflow other than visible) up to them.
CANVASES_JS = f"""() => {{
    const map = ({MAP_API_JS})(), tab = map.closest('.widget-tab-contents');
    const box = e => {{ const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }};
    return [...map.querySelectorAll('canvas')].filter(c => c.getBoundingClientRect().width > 0).map(c => {{
        const clips = [['tab', box(tab)]];
        for (let e = c.parentElement; e && e !== tab; e = e.parentElement) {{
            const cs = getComputedStyle(e);
            if (cs.overflowX != 'visible' || cs.overflowY != 'visible')
                clips.push([e.tagName.toLowerCase() + [...e.classList].map(k => '.' + k).join(''), box(e)]);
        }}
        return {{canvas: box(c), width: c.getBoundingClientRect().width, clips}};
    }});
}}"""


def test_opening_the_map_restyles_nothing_outside_it_and_its_canvases_fit_the_tab(page):  # noqa: F811 - the imported fixture
    """Check in Chromium (1400 px wide) that opening the Embedding map tab and drawing the map
    changes no computed style (fonts, line heights, paddings, margins, borders, box sizing,
    overflow, colours...: PROPERTIES) of any element outside the map, html and body and drawn
    ::before/::after included: while the map is shown (the properties that do not depend on the
    tab shown) and back on the first tab (all of them, the boxes' sizes too); that the map's
    canvases lie wholly inside the tab and every box that clips them; that the map logs no console
    error."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    first = page.locator(".lm-TabBar-tab.lm-mod-current").inner_text().strip()
    assert first != "Embedding map"
    assert page.evaluate(RECORD_JS, ["__before", PROPERTIES]) > 500

    open_map(page, 719)
    wait_until_settled(page)
    page.evaluate(RECORD_JS, ["__open", PROPERTIES])
    # the tab bar's tabs change their look (the current one), as they should
    changed = page.evaluate(DIFF_JS, ["__before", "__open", NOT_LAYOUT, ".lm-TabBar"])
    assert changed["count"] == 0, f"{changed['count']} elements outside the map restyled: {changed['first']}"

    canvases = page.evaluate(CANVASES_JS)
    assert canvases and max(c["width"] for c in canvases) > 300, canvases  # the map itself is drawn
    for c in canvases:
        x0, y0, x1, y1 = c["canvas"]
        for name, (left, top, right, bottom) in c["clips"]:
            inside = left - 0.5 <= x0 and top - 0.5 <= y0 and x1 <= right + 0.5 and y1 <= bottom + 0.5
            assert inside, f"a canvas of the map ({c['canvas']}) is cut by {name} ({[left, top, right, bottom]})"

    open_tab(page, first)
    wait_until_settled(page)
    page.evaluate(RECORD_JS, ["__after", PROPERTIES])
    changed = page.evaluate(DIFF_JS, ["__before", "__after", None, None])
    assert changed["count"] == 0, f"{changed['count']} elements outside the map restyled: {changed['first']}"
    assert errors == []
