//! A single-file HTML viewer in the spirit of BertViz: a head view (words in two columns joined
//! by lines weighted by attention) and a model view (a thumbnail of every layer × head).
//!
//! The page loads nothing from the network. Its styles and scripts sit next to this file and are
//! compiled in; the attention travels as JSON inside `<script type="application/json" id="data">`.
//! Opening the page with `#selftest` makes it exercise itself and write the outcome as JSON into
//! `<pre id="selftest-result">`, for headless browser tests.

use serde::Serialize;

use super::scale::{GOLD, STOPS};
use super::{RenderError, SentenceAttention, shape};

const CSS: &str = include_str!("viewer.css");
const JS: &str = include_str!("viewer.js");
/// Loaded first, so it sees errors thrown by the viewer itself.
const SELFTEST_JS: &str = include_str!("selftest.js");

/// Four decimals tell every visible shade apart and keep the file a third of its f32 size.
const DECIMALS: f64 = 1e4;

/// A block appended under the viewer, e.g. training curves or a table of results.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HtmlSection {
    /// Heading of the section, written as text.
    pub title: String,
    /// A PNG as base64 (see [`super::png_base64`]), shown as an image above `html`.
    pub png_base64: Option<String>,
    /// Markup inserted as is: it is the caller's own HTML, not escaped.
    pub html: String,
}

#[derive(Serialize)]
struct Data<'a> {
    scale: &'a [[u8; 3]],
    gold: [u8; 3],
    sentences: Vec<SentenceData<'a>>,
}

#[derive(Serialize)]
struct SentenceData<'a> {
    words: &'a [String],
    title: Option<&'a str>,
    highlights: &'a [(usize, usize)],
    attention: Vec<Vec<Vec<Vec<f64>>>>,
}

impl<'a> SentenceData<'a> {
    fn new(att: &'a SentenceAttention) -> Self {
        let round = |w: &f32| (f64::from(*w) * DECIMALS).round() / DECIMALS;
        Self {
            words: &att.words,
            title: att.title.as_deref(),
            highlights: &att.highlights,
            attention: att
                .layers
                .iter()
                .map(|heads| {
                    heads
                        .iter()
                        .map(|m| {
                            m.iter()
                                .map(|row| row.iter().map(round).collect())
                                .collect()
                        })
                        .collect()
                })
                .collect(),
        }
    }
}

/// One self-contained HTML page showing `sentences` (picked from a list) and then
/// `extra_sections`. Every sentence is validated; there must be at least one.
pub fn html(
    sentences: &[SentenceAttention],
    extra_sections: &[HtmlSection],
) -> Result<String, RenderError> {
    if sentences.is_empty() {
        return Err(shape("no sentences to show"));
    }
    for (i, att) in sentences.iter().enumerate() {
        att.validate().map_err(|err| match err {
            RenderError::Shape { what } => shape(format!("sentence {i}: {what}")),
            other => other,
        })?;
    }
    let data = Data {
        scale: &STOPS,
        gold: GOLD,
        sentences: sentences.iter().map(SentenceData::new).collect(),
    };
    // Cannot fail for these plain structs; mapped rather than unwrapped all the same.
    let json = script_safe(&serde_json::to_string(&data).map_err(|e| shape(e.to_string()))?);

    let sections: String = extra_sections.iter().map(section).collect();
    Ok(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tinyattn · attention</title>
<style>
{CSS}</style>
<script>
{SELFTEST_JS}</script>
</head>
<body>
<header>
<h1>tinyattn <span>attention</span></h1>
<label>Sentence <select id="sentence"></select></label>
</header>
<p id="caption"></p>
<main>
<section id="head-view">
<h2>Head view</h2>
<div class="controls">
<label>Layer <select id="layer"></select></label>
<span id="heads"></span>
<button type="button" id="all-heads">all</button>
<button type="button" id="no-heads">none</button>
</div>
<p class="hint">Hover a word on the left to see what it attends to, or on the right to see what attends to it; click to pin. Line opacity and width follow the weight; <span class="gold-key">dashed amber</span> lines are gold links.</p>
<svg id="head-svg" role="img" aria-label="attention lines between words"><g id="gold"></g><g id="lines"></g><g id="words"></g></svg>
</section>
<section id="model-view">
<h2>Model view</h2>
<p class="hint">Every layer × head; rows are query words, columns key words. Click one to open it in the head view.</p>
<div id="grid"></div>
<div class="scale"><span>0</span><span id="scale-bar"></span><span>1</span></div>
</section>
</main>
{sections}<script type="application/json" id="data">{json}</script>
<script>
{JS}</script>
</body>
</html>
"#
    ))
}

/// JSON that cannot end its `<script>` element: inside JSON, `<`, `>` and `&` only occur in
/// strings, where the `\u` escapes mean the same characters to `JSON.parse`.
fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn section(s: &HtmlSection) -> String {
    let title = escape(&s.title);
    let image = s.png_base64.as_deref().map_or_else(String::new, |b64| {
        format!(
            "<img alt=\"{title}\" src=\"data:image/png;base64,{}\">\n",
            escape(b64)
        )
    });
    format!(
        "<section class=\"extra\">\n<h2>{title}</h2>\n{image}{}\n</section>\n",
        s.html
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{awkward, sample};
    use super::super::{png_base64, png_image};
    use super::*;
    use serde_json::Value;

    fn page() -> String {
        let plot = png_image(&sample()).expect("valid");
        html(
            &[sample(), awkward()],
            &[HtmlSection {
                title: "Training <loss>".to_owned(),
                png_base64: Some(png_base64(&plot).expect("encodes")),
                html: "<table><tr><td>accuracy</td><td>0.93</td></tr></table>".to_owned(),
            }],
        )
        .expect("valid")
    }

    /// The text of the data element, found the way an HTML parser would: up to the first
    /// `</script`.
    fn data_json(page: &str) -> Value {
        let open = r#"<script type="application/json" id="data">"#;
        let start = page.find(open).expect("data element") + open.len();
        let end = start + page[start..].find("</script").expect("closed");
        serde_json::from_str(&page[start..end]).expect("the element holds all of the JSON")
    }

    #[test]
    fn loads_nothing_from_the_network() {
        let page = page();
        for needle in [
            "http://",
            "https://",
            "src=\"//",
            "href=\"//",
            "@import",
            "url(",
        ] {
            assert!(!page.contains(needle), "{needle}");
        }
        assert!(page.contains("src=\"data:image/png;base64,iVBORw0KGgo"));
    }

    #[test]
    fn data_survives_words_that_are_markup() {
        let page = page();
        let data = data_json(&page);
        assert_eq!(data["sentences"][1]["words"][1], "</script>");
        assert_eq!(data["sentences"][1]["words"][4], "<b>x</b>");
        let opened = page.matches("<script").count();
        let closed = page.matches("</script>").count();
        assert_eq!(opened, 3);
        assert_eq!(closed, opened, "no word closes a script early");
        assert!(!page.contains("<b>x</b>"));
    }

    #[test]
    fn data_has_a_panel_per_layer_and_head() {
        let data = data_json(&page());
        let sentences = data["sentences"].as_array().expect("list");
        assert_eq!(sentences.len(), 2);
        let attention = sentences[0]["attention"].as_array().expect("layers");
        assert_eq!(attention.len(), 2);
        for layer in attention {
            let heads = layer.as_array().expect("heads");
            assert_eq!(heads.len(), 4);
            for head in heads {
                let rows = head.as_array().expect("rows");
                assert_eq!(rows.len(), 11);
                assert!(rows.iter().all(|r| r.as_array().map(Vec::len) == Some(11)));
            }
        }
        assert_eq!(data["sentences"][0]["attention"][1][1][7][1], 0.71);
        assert_eq!(
            data["sentences"][0]["highlights"][0],
            serde_json::json!([7, 1])
        );
        assert_eq!(data["scale"].as_array().map(Vec::len), Some(STOPS.len()));
    }

    #[test]
    fn the_page_has_the_testable_hooks() {
        let page = page();
        for hook in [
            "id=\"lines\"",
            "id=\"grid\"",
            "id=\"sentence\"",
            "id=\"layer\"",
            "word-left",
            "attn-line",
            "'panel'",
            "selftest-result",
        ] {
            assert!(page.contains(hook), "{hook}");
        }
    }

    #[test]
    fn sections_escape_their_title_but_not_their_html() {
        let page = page();
        assert!(page.contains("<h2>Training &lt;loss&gt;</h2>"));
        assert!(page.contains("<td>accuracy</td>"));
    }

    #[test]
    fn refuses_nothing_and_bad_shapes() {
        assert!(html(&[], &[]).is_err());
        let mut bad = awkward();
        bad.layers[1][0][2].push(0.0);
        let err = html(&[sample(), bad], &[]).expect_err("ragged");
        assert!(
            err.to_string().contains("sentence 1: layer 1 head 0 row 2"),
            "{err}"
        );
    }

    /// Where the browser test leaves the report, its screenshot and PNG grids for a look.
    fn browser_dir() -> std::path::PathBuf {
        std::env::temp_dir().join("tinyattn-render-browser")
    }

    /// Headless Chromium with the flags that work as root in a container; `CHROMIUM` names
    /// another binary.
    fn chromium(args: &[&str]) -> std::process::Output {
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_owned());
        // `timeout` because a browser that hangs would otherwise hang the test run.
        std::process::Command::new("timeout")
            .args([
                "120",
                &binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                // A closed network makes Chromium's background connections fail noisily.
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ])
            .arg(format!(
                "--user-data-dir={}",
                browser_dir().join("profile").display()
            ))
            .args(["--enable-logging=stderr", "--v=0"])
            .args(args)
            .output()
            .expect("chromium runs (install it, or set CHROMIUM)")
    }

    /// Opens the report in headless Chromium with `#selftest` and checks the page's own verdict
    /// and the browser's console; leaves `report.html`, `screenshot.png` and `grid.png` in
    /// [`browser_dir`]. Skipped with a notice where Chromium is missing, unless
    /// `TINYATTN_REQUIRE_BROWSER=1` (set by CI, which installs it).
    #[test]
    fn chromium_runs_the_selftest() {
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_owned());
        let found = std::process::Command::new(&binary)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            assert!(
                std::env::var("TINYATTN_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "TINYATTN_REQUIRE_BROWSER=1 but `{binary} --version` fails"
            );
            eprintln!("skipped: no chromium (set CHROMIUM or install Debian's chromium)");
            return;
        }
        let dir = browser_dir();
        std::fs::create_dir_all(&dir).expect("temp dir is writable");
        let report = dir.join("report.html");
        std::fs::write(&report, page()).expect("report written");
        super::super::png(&sample(), &dir.join("grid.png")).expect("grid written");
        super::super::png(&awkward(), &dir.join("grid-awkward.png")).expect("grid written");
        let url = format!("file://{}#selftest", report.display());

        let out = chromium(&["--dump-dom", &url]);
        let dom = String::from_utf8_lossy(&out.stdout);
        let log = String::from_utf8_lossy(&out.stderr);
        let open = "<pre id=\"selftest-result\">";
        // rfind: the self-test script names the element in a comment too.
        let start = dom
            .rfind(open)
            .unwrap_or_else(|| panic!("no result in the DOM; log:\n{log}"));
        let body = &dom[start + open.len()..];
        let text = body[..body.find("</pre>").expect("closed")]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        println!("selftest: {text}");
        let result: Value = serde_json::from_str(&text).expect("the result is JSON");
        assert_eq!(result["ok"], true, "{result}");
        assert_eq!(result["panels"], 8);
        assert_eq!(result["errors"], serde_json::json!([]));
        let complaints: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("Uncaught") || l.contains("CONSOLE"))
            .collect();
        assert!(complaints.is_empty(), "console: {complaints:#?}");

        let shot = dir.join("screenshot.png");
        let out = chromium(&[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,900",
            "--hide-scrollbars",
            &url,
        ]);
        assert!(shot.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}
