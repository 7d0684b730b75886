//! The PDF renderer behind the summary for the visit.
//!
//! The summary a person brings to a visit must look the same whether the app, the CLI or the
//! clinic prints it, so all three build a [`Document`] and call [`render`]. This module is generic:
//! it knows headings, paragraphs, bullets and small line charts, nothing of the diary.
//!
//! Pages are A4 portrait in Helvetica and Helvetica-Bold, two of the PDF base-14 fonts, with
//! WinAnsiEncoding: every viewer has them, so no font file is embedded, the file stays small and
//! its text extracts (`pdftotext`). Strings are encoded to Windows-1252 here and wrapped with the
//! fonts' standard AFM widths. The output is deterministic: no timestamps, no file identifier, so
//! the same input gives the same bytes.
//!
//! The objects are written with `pdf-writer`, from the typst project: a small, maintained,
//! step-by-step writer whose only dependencies are four tiny crates (bitflags, itoa, memchr, ryu);
//! no layout engine, no font stack, no C.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// A document to print: A4 portrait, Helvetica (the PDF base-14 fonts, WinAnsiEncoding, so no font files are embedded).
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// E.g. "Summary for the visit".
    pub title: String,
    /// E.g. "Kari Nordmann · 17 Nov 2026 – 1 Dec 2026".
    pub subtitle: String,
    /// Printed small at the bottom of every page, with "page/pages" appended like "… · 1/3".
    pub footer: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A section heading, Helvetica-Bold 13 pt; never left alone at the foot of a page.
    Heading(String),
    /// Helvetica-Bold 11 pt; kept with what follows like a heading.
    Subheading(String),
    /// 10 pt, wrapped to the text width; a '\n' starts a new line.
    Paragraph(String),
    /// 10 pt, "•" then the wrapped text with a hanging indent.
    Bullet(String),
    /// A small line chart, the full text width, 45 mm tall.
    Chart(Chart),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// A 9 pt label above the chart.
    pub title: String,
    /// (x, y), x e.g. unix seconds; drawn in x order as a polyline with a small marker per point.
    /// The x axis spans the smallest to the largest x given; non-finite points are skipped.
    pub points: Vec<(f64, f64)>,
    /// Printed under the left and right ends (e.g. the period's first and last date).
    pub x_labels: (String, String),
    /// The y axis range; points outside are clamped. An empty or invalid range falls back to the points' range.
    pub y_min: f64,
    pub y_max: f64,
    /// A dashed horizontal reference line at y with its label (e.g. 38.0, "38.0 °C"); skipped when outside the range.
    pub line: Option<(f64, String)>,
}

const MM: f64 = 72.0 / 25.4;
const PAGE_W: f64 = 210.0 * MM;
const PAGE_H: f64 = 297.0 * MM;
const MARGIN: f64 = 20.0 * MM;
const TEXT_W: f64 = PAGE_W - 2.0 * MARGIN;
const TOP: f64 = PAGE_H - MARGIN;
const FOOTER_Y: f64 = 10.0 * MM;
const CHART_H: f64 = 45.0 * MM;
const BODY: f64 = 10.0;
/// Line height as a multiple of the font size.
const LEADING: f64 = 1.3;
const AFTER_HEADING: f64 = 2.0;
const BULLET_INDENT: f64 = 12.0;

const BLACK: [f32; 3] = [0.0, 0.0, 0.0];
const GREY: [f32; 3] = [0.35, 0.35, 0.35];
const BLUE: [f32; 3] = [0.1, 0.2, 0.55];
const RED: [f32; 3] = [0.65, 0.1, 0.1];

/// Helvetica's AFM widths (1/1000 em) for WinAnsi codes 32–255; codes WinAnsi leaves undefined get 556.
#[rustfmt::skip]
const HELVETICA: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 556,
    556, 556, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 556, 611, 556,
    556, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 556, 500, 667,
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
];

/// Helvetica-Bold's AFM widths, as [`HELVETICA`].
#[rustfmt::skip]
const HELVETICA_BOLD: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 556,
    556, 556, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 556, 611, 556,
    556, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 556, 500, 667,
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278,
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,
];

/// A font resource on every page: its name there and its widths.
#[derive(Clone, Copy)]
struct Font {
    name: Name<'static>,
    widths: &'static [u16; 224],
}

const REGULAR: Font = Font { name: Name(b"F1"), widths: &HELVETICA };
const BOLD: Font = Font { name: Name(b"F2"), widths: &HELVETICA_BOLD };

/// Windows-1252's characters at 0x80–0x9F (€ ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ‘ ’ “ ” • – — ˜ ™ š › œ ž Ÿ); '\0' where it has none.
const CP1252_80: &str = "\u{20AC}\0\u{201A}\u{192}\u{201E}\u{2026}\u{2020}\u{2021}\u{2C6}\u{2030}\u{160}\u{2039}\u{152}\0\u{17D}\0\
    \0\u{2018}\u{2019}\u{201C}\u{201D}\u{2022}\u{2013}\u{2014}\u{2DC}\u{2122}\u{161}\u{203A}\u{153}\0\u{17E}\u{178}";

/// The Windows-1252 byte for `c`: `None` for a soft hyphen (dropped), `?` for what the code page lacks.
fn winansi_byte(c: char) -> Option<u8> {
    match c {
        '\u{AD}' => None,
        '\0'..='\u{7F}' | '\u{A0}'..='\u{FF}' => Some(c as u8),
        _ => Some(CP1252_80.chars().position(|s| s == c).map_or(b'?', |i| 0x80 + i as u8)),
    }
}

fn winansi(s: &str) -> Vec<u8> {
    s.chars().filter_map(winansi_byte).collect()
}

/// The advance of one WinAnsi byte in 1/1000 em; control bytes are drawn as spaces.
fn units(b: u8, font: Font) -> u16 {
    font.widths[if b < 0x20 || b == 0x7F { 0 } else { usize::from(b - 32) }]
}

fn char_width(c: char, font: Font, size: f64) -> f64 {
    winansi_byte(c).map_or(0.0, |b| f64::from(units(b, font)) * size / 1000.0)
}

fn width(s: &str, font: Font, size: f64) -> f64 {
    s.chars().map(|c| char_width(c, font, size)).sum()
}

/// Greedy word wrap to `max` points. Words are split on whitespace and joined by single spaces; a
/// word wider than a line is broken between characters; each '\n' starts a new line.
fn wrap(text: &str, font: Font, size: f64, max: f64) -> Vec<String> {
    let space = char_width(' ', font, size);
    let mut lines = Vec::new();
    for segment in text.trim_end().split('\n') {
        let (mut line, mut w) = (String::new(), 0.0);
        for word in segment.split_whitespace() {
            let word_w = width(word, font, size);
            if !line.is_empty() && w + space + word_w <= max {
                line.extend([" ", word]);
                w += space + word_w;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                w = 0.0;
            }
            for c in word.chars() {
                let cw = char_width(c, font, size);
                if !line.is_empty() && w + cw > max {
                    lines.push(std::mem::take(&mut line));
                    w = 0.0;
                }
                line.push(c);
                w += cw;
            }
        }
        lines.push(line);
    }
    lines
}

/// One run of text with its baseline starting at (x, y).
fn show(c: &mut Content, x: f64, y: f64, font: Font, size: f64, text: &str, rgb: [f32; 3]) {
    let bytes: Vec<u8> = winansi(text).into_iter().map(|b| if b < 0x20 || b == 0x7F { b' ' } else { b }).collect();
    c.save_state().set_fill_rgb(rgb[0], rgb[1], rgb[2]).begin_text().set_font(font.name, size as f32);
    c.set_text_matrix([1.0, 0.0, 0.0, 1.0, x as f32, y as f32]).show(Str(&bytes)).end_text().restore_state();
}

/// An axis label: whole numbers without decimals, others with one.
fn number(v: f64) -> String {
    format!("{:.*}", usize::from(v.fract() != 0.0), v)
}

/// The y range to draw: the chart's own if it is a real range, else the points', else 0–1.
fn y_range(chart: &Chart) -> (f64, f64) {
    let ys = chart.points.iter().filter(|p| p.0.is_finite() && p.1.is_finite()).map(|p| p.1);
    let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let candidates = [(chart.y_min, chart.y_max), (lo, hi), (lo - 1.0, hi + 1.0)];
    candidates.into_iter().find(|&(lo, hi)| hi > lo && (hi - lo).is_finite()).unwrap_or((0.0, 1.0))
}

/// The (text, size, space before) of a heading block.
fn heading_style(block: &Block) -> Option<(&str, f64, f64)> {
    match block {
        Block::Heading(t) => Some((t.as_str(), 13.0, 10.0)),
        Block::Subheading(t) => Some((t.as_str(), 11.0, 6.0)),
        _ => None,
    }
}

fn heading_height(text: &str, size: f64) -> f64 {
    wrap(text, BOLD, size, TEXT_W).len() as f64 * size * LEADING + AFTER_HEADING
}

/// The room a heading must keep below it: any headings that follow, then one line or a chart.
fn keep_height(rest: &[Block]) -> f64 {
    let mut h = 0.0;
    for block in rest {
        match (block, heading_style(block)) {
            (_, Some((text, size, before))) => h += before + heading_height(text, size),
            (Block::Chart(_), _) => return h + CHART_H,
            _ => return h + BODY * LEADING,
        }
    }
    h
}

/// Lays blocks out top to bottom; `y` is the top of the next line on the current page.
struct Layout {
    done: Vec<Content>,
    page: Content,
    y: f64,
}

impl Layout {
    fn new() -> Self {
        Layout { done: Vec::new(), page: Content::new(), y: TOP }
    }

    /// Starts a new page unless `height` more fits above the bottom margin or the page is still empty.
    fn ensure(&mut self, height: f64) {
        if self.y - height < MARGIN && self.y < TOP {
            self.done.push(std::mem::replace(&mut self.page, Content::new()));
            self.y = TOP;
        }
    }

    /// Vertical space, except at the top of a page.
    fn gap(&mut self, h: f64) {
        if self.y < TOP {
            self.y -= h;
        }
    }

    /// `text` wrapped to the width right of `x`, one line at a time, each on the page it fits.
    fn text(&mut self, x: f64, font: Font, size: f64, text: &str, rgb: [f32; 3]) {
        for line in wrap(text, font, size, MARGIN + TEXT_W - x) {
            self.ensure(size * LEADING);
            show(&mut self.page, x, self.y - size, font, size, &line, rgb);
            self.y -= size * LEADING;
        }
    }

    fn title(&mut self, doc: &Document) {
        self.text(MARGIN, BOLD, 18.0, &doc.title, BLACK);
        if !doc.subtitle.trim().is_empty() {
            self.text(MARGIN, REGULAR, 11.0, &doc.subtitle, GREY);
        }
        let y = (self.y - 4.0) as f32;
        let c = self.page.save_state().set_stroke_rgb(0.6, 0.6, 0.6).set_line_width(0.5);
        c.move_to(MARGIN as f32, y).line_to((MARGIN + TEXT_W) as f32, y).stroke().restore_state();
        self.y -= 14.0;
    }

    /// Lays out `block`; `rest` are the blocks after it, so a heading can keep with what follows.
    fn block(&mut self, block: &Block, rest: &[Block]) {
        match block {
            Block::Paragraph(t) => {
                self.text(MARGIN, REGULAR, BODY, t, BLACK);
                self.gap(4.0);
            }
            Block::Bullet(t) => {
                self.ensure(BODY * LEADING);
                show(&mut self.page, MARGIN + 2.0, self.y - BODY, REGULAR, BODY, "•", BLACK);
                self.text(MARGIN + BULLET_INDENT, REGULAR, BODY, t, BLACK);
                self.gap(2.0);
            }
            Block::Chart(chart) => {
                self.chart(chart);
                self.gap(6.0);
            }
            _ => {
                if let Some((text, size, before)) = heading_style(block) {
                    self.gap(before);
                    self.ensure(heading_height(text, size) + keep_height(rest));
                    self.text(MARGIN, BOLD, size, text, BLACK);
                    self.gap(AFTER_HEADING);
                }
            }
        }
    }

    fn chart(&mut self, chart: &Chart) {
        const LABEL: f64 = 8.0;
        const PAD: f64 = 4.0;
        self.ensure(CHART_H);
        let top = self.y;
        self.y -= CHART_H;
        let c = &mut self.page;
        show(c, MARGIN, top - 9.0, BOLD, 9.0, &chart.title, BLACK);

        let (lo, hi) = y_range(chart);
        let (lo_s, hi_s) = (number(lo), number(hi));
        let gutter = width(&lo_s, REGULAR, LABEL).max(width(&hi_s, REGULAR, LABEL)) + 4.0;
        let (x0, x1, y0, y1) = (MARGIN + gutter, MARGIN + TEXT_W, top - CHART_H + 14.0, top - 14.0);
        c.save_state().set_stroke_rgb(0.6, 0.6, 0.6).set_line_width(0.5);
        c.rect(x0 as f32, y0 as f32, (x1 - x0) as f32, (y1 - y0) as f32).stroke().restore_state();
        show(c, x0 - 3.0 - width(&hi_s, REGULAR, LABEL), y1 - 6.0, REGULAR, LABEL, &hi_s, GREY);
        show(c, x0 - 3.0 - width(&lo_s, REGULAR, LABEL), y0, REGULAR, LABEL, &lo_s, GREY);
        let (left, right) = (&chart.x_labels.0, &chart.x_labels.1);
        show(c, x0, y0 - 10.0, REGULAR, LABEL, left, GREY);
        show(c, x1 - width(right, REGULAR, LABEL), y0 - 10.0, REGULAR, LABEL, right, GREY);

        let mut pts: Vec<(f64, f64)> = chart.points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (Some(&(xmin, _)), Some(&(xmax, _))) = (pts.first(), pts.last()) else { return };
        let span = xmax - xmin;
        let px =
            |x: f64| if span > 0.0 && span.is_finite() { x0 + PAD + (x - xmin) / span * (x1 - x0 - 2.0 * PAD) } else { (x0 + x1) / 2.0 };
        let py = |y: f64| y0 + PAD + (y.clamp(lo, hi) - lo) / (hi - lo) * (y1 - y0 - 2.0 * PAD);

        if let Some((ly, text)) = &chart.line {
            if *ly >= lo && *ly <= hi {
                let y = py(*ly);
                c.save_state().set_stroke_rgb(RED[0], RED[1], RED[2]).set_line_width(0.75).set_dash_pattern([3.0, 2.0], 0.0);
                c.move_to(x0 as f32, y as f32).line_to(x1 as f32, y as f32).stroke().restore_state();
                let ty = if y + 10.0 < y1 { y + 2.0 } else { y - 8.0 };
                show(c, x1 - 3.0 - width(text, REGULAR, LABEL), ty, REGULAR, LABEL, text, RED);
            }
        }
        if pts.len() >= 2 {
            c.save_state().set_stroke_rgb(BLUE[0], BLUE[1], BLUE[2]).set_line_width(1.0).move_to(px(xmin) as f32, py(pts[0].1) as f32);
            for &(x, y) in &pts[1..] {
                c.line_to(px(x) as f32, py(y) as f32);
            }
            c.stroke().restore_state();
        }
        c.save_state().set_fill_rgb(BLUE[0], BLUE[1], BLUE[2]);
        for &(x, y) in &pts {
            c.rect((px(x) - 1.5) as f32, (py(y) - 1.5) as f32, 3.0, 3.0);
        }
        c.fill_nonzero().restore_state();
    }
}

/// Renders `doc` to the bytes of a PDF file. Cannot fail; the same document gives the same bytes.
pub fn render(doc: &Document) -> Vec<u8> {
    let mut layout = Layout::new();
    layout.title(doc);
    for (i, block) in doc.blocks.iter().enumerate() {
        layout.block(block, doc.blocks.get(i + 1..).unwrap_or(&[]));
    }
    let mut pages = layout.done;
    pages.push(layout.page);

    let (catalog, tree, regular, bold, info) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5));
    let ids: Vec<(Ref, Ref)> = (0..pages.len() as i32).map(|i| (Ref::new(6 + 2 * i), Ref::new(7 + 2 * i))).collect();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(ids.iter().map(|&(page, _)| page)).count(ids.len() as i32);
    pdf.type1_font(regular).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info).title(TextStr(&doc.title)).creator(TextStr("Companion"));

    let count = pages.len();
    for (n, (mut content, &(page_id, content_id))) in pages.into_iter().zip(&ids).enumerate() {
        // The footer on one line: cut with "…" if it would not leave room for " · page/pages".
        let suffix = if doc.footer.trim().is_empty() { format!("{}/{count}", n + 1) } else { format!(" · {}/{count}", n + 1) };
        let lines = wrap(&doc.footer, REGULAR, 8.0, TEXT_W - width(&format!("…{suffix}"), REGULAR, 8.0));
        let cut = if lines.len() > 1 { "…" } else { "" };
        let text = format!("{}{cut}{suffix}", lines.first().map_or("", String::as_str));
        show(&mut content, MARGIN, FOOTER_Y, REGULAR, 8.0, &text, GREY);

        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W as f32, PAGE_H as f32)).parent(tree).contents(content_id);
        page.resources().fonts().pair(REGULAR.name, regular).pair(BOLD.name, bold);
        page.finish();
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(blocks: Vec<Block>) -> Document {
        let (title, subtitle) = ("Summary for the visit".into(), "Kari Nordmann · 17 Nov 2026 – 1 Dec 2026".into());
        Document { title, subtitle, footer: "Companion · printed for the visit".into(), blocks }
    }

    fn chart(points: Vec<(f64, f64)>) -> Chart {
        let (title, x_labels) = ("Temperature (°C)".into(), ("17 Nov".into(), "1 Dec".into()));
        Chart { title, points, x_labels, y_min: 35.0, y_max: 41.0, line: Some((38.0, "38.0 °C".into())) }
    }

    fn pages(pdf: &[u8]) -> usize {
        let patterns = [&b"/Type /Page"[..], &b"/Type/Page"[..]];
        patterns.iter().map(|pat| pdf.windows(pat.len() + 1).filter(|w| w.starts_with(pat) && w[pat.len()] != b's').count()).sum()
    }

    fn has(pdf: &[u8], pat: &[u8]) -> bool {
        pdf.windows(pat.len()).any(|w| w == pat)
    }

    const LONG: &str = "Fever in the evenings, mostly after the second cycle. Nausea was worst on days two and three; \
        the anti-sickness tablets helped when taken before meals. Sleep was broken by pain in the lower back.";

    #[test]
    fn encodes_winansi_and_measures_afm_widths() {
        assert_eq!(winansi("Abc 1!"), b"Abc 1!");
        assert_eq!(winansi("æøåÆØÅé°·§\u{A0}ÿ"), [0xE6_u8, 0xF8, 0xE5, 0xC6, 0xD8, 0xC5, 0xE9, 0xB0, 0xB7, 0xA7, 0xA0, 0xFF]);
        assert_eq!(winansi("•–—‘’“”€…"), [0x95_u8, 0x96, 0x97, 0x91, 0x92, 0x93, 0x94, 0x80, 0x85]);
        assert_eq!(winansi("sym\u{AD}ptom"), b"symptom");
        assert_eq!(winansi("→ 中 \u{85}"), b"? ? ?");
        assert_eq!(CP1252_80.chars().count(), 32);
        assert_eq!(width("Helvetica", REGULAR, 1000.0), 4112.0);
        assert_eq!((units(b'W', BOLD), units(0xF8, REGULAR), units(0x95, BOLD)), (944, 611, 350));
    }

    #[test]
    fn wraps_within_the_text_width() {
        let text = [LONG; 4].join(" ");
        let lines = wrap(&text, REGULAR, BODY, TEXT_W);
        assert!(lines.len() > 3 && lines.iter().all(|l| width(l, REGULAR, BODY) <= TEXT_W + 1e-6), "{lines:?}");
        assert_eq!(lines.join(" "), text.split_whitespace().collect::<Vec<_>>().join(" "));
        let broken = wrap(&format!("a {} b", "x".repeat(500)), BOLD, 13.0, TEXT_W);
        assert!(broken.len() >= 3 && broken.iter().all(|l| width(l, BOLD, 13.0) <= TEXT_W + 1e-6), "{broken:?}");
        assert_eq!(broken.concat().matches('x').count(), 500);
        assert_eq!(wrap("one\ntwo", REGULAR, BODY, TEXT_W), ["one", "two"]);
    }

    #[test]
    fn long_documents_get_more_pages() {
        let pdf = render(&doc((0..200).map(|i| Block::Paragraph(format!("{i}: {LONG}"))).collect()));
        assert!(pdf.starts_with(b"%PDF-") && pages(&pdf) > 1, "{} pages", pages(&pdf));
        assert_eq!(pages(&render(&doc(vec![Block::Paragraph("short".into())]))), 1);
    }

    #[test]
    fn a_heading_keeps_with_the_next_line() {
        let rest = [Block::Paragraph("after".into())];
        for (room, new_pages) in [(0.0, 1), (BODY * LEADING, 0)] {
            let mut layout = Layout::new();
            layout.y = MARGIN + 10.0 + 13.0 * LEADING + 5.0 + room; // the heading alone always fits
            layout.block(&Block::Heading("Symptoms".into()), &rest);
            layout.block(&rest[0], &[]);
            assert_eq!(layout.done.len(), new_pages);
        }
    }

    #[test]
    fn charts_render() {
        let points = (0..15_i32).rev().map(|i| (1_763_337_600.0 + f64::from(i) * 86_400.0, 36.5 + f64::from(i % 5) * 0.6)).collect();
        let pdf = render(&doc(vec![Block::Heading("Temperature".into()), Block::Chart(chart(points))]));
        assert!(pdf.starts_with(b"%PDF-") && has(&pdf, b"] 0 d"), "no dashed reference line");
        for points in [vec![], vec![(1.0, 37.0)], vec![(f64::NAN, 1.0), (2.0, f64::INFINITY), (3.0, 1e300)]] {
            let mut c = chart(points);
            c.y_min = f64::NAN;
            let pdf = render(&doc(vec![Block::Chart(c)]));
            assert!(!has(&pdf, b"NaN") && !has(&pdf, b"inf"));
        }
        assert!(!has(&render(&doc(vec![Block::Chart(chart(vec![]))])), b"] 0 d"), "an empty chart draws only its box");
    }

    #[test]
    fn rendering_is_deterministic() {
        let d = doc(vec![Block::Subheading("Hei".into()), Block::Bullet(LONG.into()), Block::Chart(chart(vec![(1.0, 37.0), (2.0, 38.5)]))]);
        assert_eq!(render(&d), render(&d));
    }

    /// Needs poppler's `pdftotext` (`make` installs `poppler-utils`); without it the test fails
    /// rather than passing unchecked.
    #[test]
    fn pdftotext_extracts_the_text() {
        let bullet = "Kvalme – verst på dag to; føler seg «slapp».";
        let blocks = vec![Block::Heading("Symptoms".into()), Block::Paragraph(LONG.into()), Block::Bullet(bullet.into())];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.pdf");
        std::fs::write(&path, render(&doc(blocks))).unwrap();
        let out = std::process::Command::new("pdftotext").arg(&path).arg("-").output().expect("pdftotext (poppler-utils) is installed");
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let tagged = format!("• {bullet}");
        for want in ["Summary for the visit", "Kari Nordmann · 17 Nov 2026 – 1 Dec 2026", LONG, tagged.as_str(), "visit · 1/1"] {
            assert!(flat.contains(&want.split_whitespace().collect::<Vec<_>>().join(" ")), "{want:?} not in {text}");
        }
        let first = &wrap(LONG, REGULAR, BODY, TEXT_W)[0];
        assert!(text.lines().any(|l| l.trim() == first), "wrapped lines are not separate lines: {text}");
    }
}
