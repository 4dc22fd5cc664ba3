//! ZPL II output for Zebra-class printers: barcodes as the printer's own symbol commands (sharp at any
//! resolution), ASCII text in the resident scalable font, other text (Chinese) and logos as `^GFA` bitmaps
//! rendered with the embedded font, so no font has to be installed on the printer.

use std::fmt::Write as _;

use tiny_skia::Pixmap;

use crate::LabelError;
use crate::font::{text_start, text_width};
use crate::png::draw_text;
use crate::symbol::Symbology;
use crate::template::{Align, Shape};

/// Writes one `^XA … ^XZ` block per label.
pub fn render(labels: &[Vec<Shape>], w: f32, h: f32, dpi: u32) -> Result<String, LabelError> {
    let k = dpi as f32 / 25.4;
    let dots = |mm: f32| (mm * k).round().max(0.0) as u32;
    let mut out = String::with_capacity(labels.len() * 600);
    for shapes in labels {
        let _ = writeln!(out, "^XA^CI28^PW{}^LL{}^LH0,0", dots(w), dots(h));
        for shape in shapes {
            match shape {
                Shape::Text {
                    x,
                    y,
                    size,
                    text,
                    align,
                } => {
                    let width = text_width(text, *size);
                    let left = text_start(text, *x, *size, *align);
                    if text.is_ascii() {
                        // ^A0 height is the cell height; the baseline sits about 0.8 of it below the top.
                        let hd = dots(*size).max(10);
                        let _ = writeln!(
                            out,
                            "^FO{},{}^A0N,{hd},{hd}^FD{}^FS",
                            dots(left),
                            dots((y - size * 0.8).max(0.0)),
                            escape(text)
                        );
                    } else {
                        let top = (y - size * 0.95).max(0.0);
                        let (bw, bh) = (dots(width) + 2, dots(size * 1.25) + 2);
                        let mut pm = Pixmap::new(bw.max(1), bh.max(1))
                            .ok_or_else(|| LabelError::Render("text bitmap too large".into()))?;
                        pm.fill(tiny_skia::Color::WHITE);
                        draw_text(&mut pm, text, 1.0, (y - top) * k, size * k, Align::Left);
                        let _ = writeln!(
                            out,
                            "^FO{},{}{}^FS",
                            dots(left),
                            dots(top),
                            graphic_field(&pm)
                        );
                    }
                }
                Shape::Modules {
                    x,
                    y,
                    module_w,
                    module_h,
                    symbol,
                } => {
                    let m = dots(*module_w).max(1);
                    let (fx, fy) = (dots(*x), dots(*y));
                    match symbol.symbology {
                        Symbology::Qr => {
                            // ^BQ draws its own quiet zone-free symbol from ^FO; magnification = dots per module.
                            let _ = writeln!(
                                out,
                                "^FO{fx},{fy}^BQN,2,{}^FDMA,{}^FS",
                                m.min(10),
                                escape(&symbol.data)
                            );
                        }
                        Symbology::Gs1Datamatrix => {
                            let data = symbol.data.replace('\u{1d}', "_1");
                            let _ = writeln!(
                                out,
                                "^FO{fx},{fy}^BXN,{m},200,,,,_^FD_1{}^FS",
                                escape(&data)
                            );
                        }
                        Symbology::Datamatrix => {
                            let _ = writeln!(
                                out,
                                "^FO{fx},{fy}^BXN,{m},200^FD{}^FS",
                                escape(&symbol.data)
                            );
                        }
                        Symbology::Gs1_128 => {
                            let _ = writeln!(
                                out,
                                "^BY{m}^FO{fx},{fy}^BCN,{},N,N,N,D^FD{}^FS",
                                dots(*module_h),
                                escape(&symbol.hri)
                            );
                        }
                        Symbology::Code128 => {
                            let _ = writeln!(
                                out,
                                "^BY{m}^FO{fx},{fy}^BCN,{},N,N,N^FD{}^FS",
                                dots(*module_h),
                                escape(&symbol.data)
                            );
                        }
                        Symbology::Ean13 => {
                            let _ = writeln!(
                                out,
                                "^BY{m}^FO{fx},{fy}^BEN,{},N,N^FD{}^FS",
                                dots(*module_h),
                                &symbol.data[..12]
                            );
                        }
                        Symbology::UpcA => {
                            let _ = writeln!(
                                out,
                                "^BY{m}^FO{fx},{fy}^BUN,{},N,N,N^FD{}^FS",
                                dots(*module_h),
                                &symbol.data[..11]
                            );
                        }
                    }
                }
                Shape::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    width,
                } => {
                    let t = dots(*width).max(1);
                    let (l, tp) = (x1.min(*x2), y1.min(*y2));
                    let (dw, dh) = (dots((x2 - x1).abs()), dots((y2 - y1).abs()));
                    if dw == 0 || dh == 0 {
                        let _ = writeln!(
                            out,
                            "^FO{},{}^GB{},{},{t}^FS",
                            dots(l),
                            dots(tp),
                            dw.max(t),
                            dh.max(t)
                        );
                    } else {
                        let dir = if (x2 - x1) * (y2 - y1) > 0.0 {
                            'L'
                        } else {
                            'R'
                        };
                        let _ = writeln!(
                            out,
                            "^FO{},{}^GD{dw},{dh},{t},B,{dir}^FS",
                            dots(l),
                            dots(tp)
                        );
                    }
                }
                Shape::Rect { x, y, w, h, width } => {
                    let _ = writeln!(
                        out,
                        "^FO{},{}^GB{},{},{}^FS",
                        dots(*x),
                        dots(*y),
                        dots(*w),
                        dots(*h),
                        dots(*width).max(1)
                    );
                }
                Shape::Image { x, y, w, h, png } => {
                    let img = Pixmap::decode_png(png)
                        .map_err(|e| LabelError::Render(format!("logo: {e}")))?;
                    let mut pm = Pixmap::new(dots(*w).max(1), dots(*h).max(1))
                        .ok_or_else(|| LabelError::Render("logo too large".into()))?;
                    pm.fill(tiny_skia::Color::WHITE);
                    let t = tiny_skia::Transform::from_scale(
                        pm.width() as f32 / img.width() as f32,
                        pm.height() as f32 / img.height() as f32,
                    );
                    pm.draw_pixmap(
                        0,
                        0,
                        img.as_ref(),
                        &tiny_skia::PixmapPaint::default(),
                        t,
                        None,
                    );
                    let _ = writeln!(out, "^FO{},{}{}^FS", dots(*x), dots(*y), graphic_field(&pm));
                }
            }
        }
        out.push_str("^XZ\n");
    }
    Ok(out)
}

/// `^FD` data may not hold `^` or `~` (command prefixes): replace them with their `^FH` hex escapes.
fn escape(s: &str) -> String {
    if !s.contains(['^', '~', '_']) {
        return s.to_string();
    }
    s.replace('^', "_5E").replace('~', "_7E")
}

/// A `^GFA` graphic field: 1 bit per dot, dark where the pixel is darker than mid-grey, rows written in
/// ZPL's ASCII compression (run counts, `,` for a white rest of row, `:` for a repeated row).
pub fn graphic_field(pm: &Pixmap) -> String {
    let (w, h) = (pm.width() as usize, pm.height() as usize);
    let row_bytes = w.div_ceil(8);
    let mut hex = String::with_capacity(row_bytes * h / 4);
    let mut row = String::with_capacity(row_bytes * 2);
    let mut previous = String::new();
    let data = pm.data();
    for y in 0..h {
        row.clear();
        for bx in 0..row_bytes {
            let mut byte = 0u8;
            for bit in 0..8 {
                let x = bx * 8 + bit;
                if x < w {
                    let i = (y * w + x) * 4;
                    let lum = (u32::from(data[i]) * 3
                        + u32::from(data[i + 1]) * 6
                        + u32::from(data[i + 2]))
                        / 10;
                    if data[i + 3] > 127 && lum < 128 {
                        byte |= 0x80 >> bit;
                    }
                }
            }
            let _ = write!(row, "{byte:02X}");
        }
        if y > 0 && row == previous {
            hex.push(':');
        } else {
            compress_row(&row, &mut hex);
            std::mem::swap(&mut previous, &mut row);
        }
    }
    let total = row_bytes * h;
    format!("^GFA,{total},{total},{row_bytes},{hex}")
}

/// Appends one row of hex digits in ZPL's ASCII compression.
fn compress_row(row: &str, out: &mut String) {
    let trimmed = row.trim_end_matches('0');
    if trimmed.is_empty() {
        out.push(',');
        return;
    }
    let b = trimmed.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let mut n = 1;
        while i + n < b.len() && b[i + n] == b[i] {
            n += 1;
        }
        push_count(out, n);
        out.push(char::from(b[i]));
        i += n;
    }
    if trimmed.len() < row.len() {
        out.push(',');
    }
}

/// A repeat count: `g`–`z` for multiples of 20 (up to 400), then `G`–`Y` for 1–19; nothing for 1.
fn push_count(out: &mut String, mut n: usize) {
    if n == 1 {
        return;
    }
    while n >= 400 {
        out.push('z');
        n -= 400;
    }
    if n >= 20 {
        out.push(char::from(b'g' + (n / 20 - 1) as u8));
        n %= 20;
    }
    if n > 0 {
        out.push(char::from(b'G' + (n - 1) as u8));
    }
}

/// Expands ZPL's ASCII-compressed hex back into rows of plain hex (`row_bytes` bytes each).
pub fn expand_rows(data: &str, row_bytes: usize) -> Vec<String> {
    let width = row_bytes * 2;
    let mut rows: Vec<String> = Vec::new();
    let mut row = String::with_capacity(width);
    let mut count = 0usize;
    for c in data.chars() {
        match c {
            'G'..='Y' => count += (c as usize) - ('G' as usize) + 1,
            'g'..='z' => count += ((c as usize) - ('g' as usize) + 1) * 20,
            ',' | '!' => {
                let fill = if c == ',' { '0' } else { 'F' };
                while row.len() < width {
                    row.push(fill);
                }
            }
            ':' => {
                if let Some(last) = rows.last() {
                    row = last.clone();
                }
            }
            _ => {
                for _ in 0..count.max(1) {
                    row.push(c);
                }
                count = 0;
            }
        }
        if row.len() >= width {
            rows.push(std::mem::take(&mut row));
        }
    }
    rows
}

/// Parses the `^GFA` fields of ZPL back into (width in dots, height in rows, dark dot count).
pub fn graphic_fields(zpl: &str) -> Vec<(usize, usize, usize)> {
    zpl.split("^GFA,")
        .skip(1)
        .filter_map(|rest| {
            let mut parts = rest.splitn(4, ',');
            let total: usize = parts.next()?.parse().ok()?;
            parts.next()?;
            let row: usize = parts.next()?.parse().ok()?;
            let data = parts.next()?.split('^').next()?;
            let rows = expand_rows(data, row);
            let dark = rows
                .iter()
                .flat_map(|r| (0..r.len() / 2).map(move |i| &r[2 * i..2 * i + 2]))
                .filter_map(|h| u8::from_str_radix(h, 16).ok())
                .map(|b| b.count_ones() as usize)
                .sum();
            (rows.len() * row == total).then_some((row * 8, rows.len(), dark))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_rows_expand_to_the_original() {
        let rows = [
            "00000000".to_string(),
            "00FF0000".into(),
            "00FF0000".into(),
            "FFFFFFFF".into(),
            "0".repeat(8),
        ];
        let mut out = String::new();
        let mut prev = String::new();
        for (i, r) in rows.iter().enumerate() {
            if i > 0 && *r == prev {
                out.push(':');
            } else {
                compress_row(r, &mut out);
                prev = r.clone();
            }
        }
        assert_eq!(out, ",H0HF,:NF,");
        assert_eq!(expand_rows(&out, 4), rows);
        let mut n = String::new();
        push_count(&mut n, 845);
        assert_eq!(n, "zzhK");
    }
}
