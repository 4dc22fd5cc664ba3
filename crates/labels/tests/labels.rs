//! Label outputs end to end: the demo template rendered to PNG decodes back to its Digital Link and GS1
//! data; PDF and ZPL hold every label; templates are checked with located errors; port-9100 printing
//! delivers the bytes.

use std::io::Read;
use suyuan_labels::{Format, LabelTemplate, PageLayout, Symbology, Vars, render, symbol, zpl};

fn demo() -> LabelTemplate {
    LabelTemplate::from_json(&suyuan_labels::demo_template()).expect("demo template is valid")
}

fn vars(i: usize) -> Vars {
    let mut v = suyuan_labels::sample_vars();
    let serial = format!("SH01261125{i:07}");
    v.insert("serial".into(), serial.clone());
    v.insert(
        "dl".into(),
        format!("https://id.gs1.org/01/06901234567892/10/L2611250A/21/{serial}"),
    );
    v.insert(
        "element_string".into(),
        format!("(01)06901234567892(10)L2611250A(21){serial}"),
    );
    v
}

fn grey(png: &[u8]) -> (Vec<u8>, u32, u32) {
    let pm = tiny_skia::Pixmap::decode_png(png).expect("png");
    let luma = pm
        .data()
        .chunks(4)
        .map(|p| ((u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2])) / 3) as u8)
        .collect();
    (luma, pm.width(), pm.height())
}

#[test]
fn the_png_label_decodes_to_its_digital_link_and_gs1_data() {
    let t = demo();
    let v = vars(42);
    let png = render(&t, std::slice::from_ref(&v), Format::Png, PageLayout::Roll).expect("png");
    let (luma, w, h) = grey(&png);
    assert_eq!((w, h), (709, 472), "60 × 40 mm at 300 dpi");
    let qr = symbol::decode(luma.clone(), w, h, Symbology::Qr).expect("QR found on the label");
    assert_eq!(qr, format!("]Q1{}", v["dl"]));
    let dm = symbol::decode(luma, w, h, Symbology::Gs1Datamatrix).expect("DataMatrix found");
    assert_eq!(
        dm,
        format!(
            concat!("]d20106901234567892", "10L2611250A\u{1d}21{}"),
            v["serial"]
        )
    );
    // Chinese text is drawn: the area of the product name has dark pixels.
    let pm = tiny_skia::Pixmap::decode_png(&png).expect("png");
    let dark = (40..75)
        .flat_map(|y| (35..400).map(move |x| (x, y)))
        .filter(|&(x, y)| pm.pixel(x, y).is_some_and(|p| p.red() < 100))
        .count();
    assert!(dark > 500, "product name not drawn ({dark} dark pixels)");
}

/// Page objects in a PDF (`/Type/Page`, not `/Pages`); the page tree must say the same.
fn pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    let n = text
        .match_indices("/Type/Page")
        .filter(|(i, _)| !text[i + 10..].starts_with('s'))
        .count();
    assert!(
        text.contains(&format!("/Type/Pages/Count {n}/")),
        "page tree disagrees with {n} pages"
    );
    n
}

#[test]
fn a_thousand_labels_make_one_pdf_and_one_zpl_file() {
    let t = demo();
    let values: Vec<Vars> = (0..1000).map(vars).collect();
    let pdf = render(&t, &values, Format::Pdf, PageLayout::Roll).expect("pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&pdf);
    assert_eq!(pages(&pdf), 1000);
    assert!(
        text.contains("FontFile2") || text.contains("FontFile3"),
        "font embedded"
    );
    let sheets = render(&t, &values, Format::Pdf, PageLayout::a4_for(60.0, 40.0)).expect("sheets");
    // 3 × 6 labels of 60 × 40 mm fit on A4 with 8 mm margins.
    assert_eq!(pages(&sheets), 1000usize.div_ceil(18));
    let z = String::from_utf8(render(&t, &values, Format::Zpl, PageLayout::Roll).expect("zpl"))
        .expect("utf8");
    assert_eq!(z.matches("^XA").count(), 1000);
    assert_eq!(z.matches("^XZ").count(), 1000);
    assert!(z.contains(&format!("^FDMA,{}^FS", values[7]["dl"])));
    assert!(z.contains(&format!(
        concat!("^FD_10106901234567892", "10L2611250A_121{}^FS"),
        values[7]["serial"]
    )));
    assert!(z.contains("^PW709^LL472"));
    // Chinese lines become bitmaps with ink in them.
    let first = &z[..z.find("^XZ").expect("end")];
    let fields = zpl::graphic_fields(first);
    assert!(fields.len() >= 3, "{fields:?}");
    assert!(fields.iter().all(|&(_, _, dark)| dark > 20), "{fields:?}");
}

#[test]
fn svg_holds_text_and_symbols() {
    let svg =
        String::from_utf8(render(&demo(), &[vars(1)], Format::Svg, PageLayout::Roll).expect("svg"))
            .expect("utf8");
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    assert!(
        svg.contains(r#"aria-label="婴儿配方奶粉 1段 800g""#),
        "{}",
        &svg[..400]
    );
    assert!(
        !svg.contains("<text"),
        "text is drawn as outlines, independent of installed fonts"
    );
    assert!(svg.contains(r#"width="60mm""#));
    // QR, DataMatrix and six lines of text.
    assert_eq!(svg.matches("<path").count(), 8);
}

#[test]
fn templates_are_checked_with_located_errors() {
    let mut t = suyuan_labels::demo_template();
    t["fields"][8]["size"] = serde_json::json!(40);
    let e = LabelTemplate::from_json(&t).expect_err("too big");
    assert!(e.to_string().starts_with("fields/8/size:"), "{e}");
    let mut t = suyuan_labels::demo_template();
    t["dpi"] = serde_json::json!(250);
    assert!(
        LabelTemplate::from_json(&t)
            .expect_err("dpi")
            .to_string()
            .starts_with("dpi:")
    );
    let mut t = suyuan_labels::demo_template();
    t["fields"][0]["colour"] = serde_json::json!("red");
    assert!(LabelTemplate::from_json(&t).is_err());
    let demo = demo();
    let mut v = vars(1);
    v.remove("lot");
    let e = render(&demo, &[v], Format::Pdf, PageLayout::Roll).expect_err("missing variable");
    assert_eq!(
        e.to_string(),
        format!("fields/4: unknown variable {{lot}}; known: {}", {
            let mut v = vars(1);
            v.remove("lot");
            v.keys()
                .map(|k| format!("{{{k}}}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
    );
    let mut v = vars(1);
    v.insert("element_string".into(), "(01)06901234567891".into());
    let e = render(&demo, &[v], Format::Zpl, PageLayout::Roll).expect_err("bad GTIN");
    assert!(e.to_string().contains("check digit should be 2"), "{e}");
    assert_eq!(
        demo.variables()[..3],
        ["product_name", "product_name_en", "lot"]
    );
}

/// A 40 × 20 px PNG logo: a dark bar on white.
fn logo_base64() -> String {
    use base64::Engine as _;
    let mut pm = tiny_skia::Pixmap::new(40, 20).expect("pixmap");
    pm.fill(tiny_skia::Color::WHITE);
    let mut paint = tiny_skia::Paint::default();
    paint.set_color_rgba8(20, 40, 160, 255);
    let r = tiny_skia::Rect::from_xywh(5.0, 5.0, 30.0, 10.0).expect("rect");
    pm.fill_rect(r, &paint, tiny_skia::Transform::identity(), None);
    base64::engine::general_purpose::STANDARD.encode(pm.encode_png().expect("png"))
}

#[test]
fn a_logo_appears_in_every_output() {
    let mut def = suyuan_labels::demo_template();
    if let Some(fields) = def["fields"].as_array_mut() {
        fields.push(serde_json::json!({"type": "image", "x": 20, "y": 28, "w": 12, "h": 6, "png_base64": logo_base64()}));
    }
    let t = LabelTemplate::from_json(&def).expect("template with logo");
    let v = [vars(3)];
    let png = render(&t, &v, Format::Png, PageLayout::Roll).expect("png");
    let pm = tiny_skia::Pixmap::decode_png(&png).expect("decode");
    // The logo's bar sits at (20 + 12 × 5/40, 28 + 6 × 5/20) mm … (20 + 12 × 35/40, 28 + 6 × 15/20) mm.
    let k = 300.0 / 25.4;
    let (cx, cy) = ((26.0f32 * k) as u32, (30.5f32 * k) as u32);
    let p = pm.pixel(cx, cy).expect("pixel");
    assert!(
        p.blue() > 120 && p.red() < 60,
        "logo colour at its centre: {p:?}"
    );
    let pdf = String::from_utf8_lossy(&render(&t, &v, Format::Pdf, PageLayout::Roll).expect("pdf"))
        .into_owned();
    assert!(pdf.contains("/Subtype/Image"), "an image XObject");
    let svg = String::from_utf8(render(&t, &v, Format::Svg, PageLayout::Roll).expect("svg"))
        .expect("utf8");
    assert!(svg.contains("href=\"data:image/png;base64,"));
    let zpl = String::from_utf8(render(&t, &v, Format::Zpl, PageLayout::Roll).expect("zpl"))
        .expect("utf8");
    let logo = zpl::graphic_fields(&zpl)
        .into_iter()
        .find(|&(w, h, _)| (136..=144).contains(&w) && h == 71)
        .expect("a 12 × 6 mm bitmap at 300 dpi");
    assert!(logo.2 > 1000, "the bar is dark: {logo:?}");
    let mut bad = def.clone();
    if let Some(f) = bad["fields"].as_array_mut().and_then(|f| f.last_mut()) {
        f["png_base64"] = serde_json::json!("bm90IGEgcG5n");
    }
    let e = LabelTemplate::from_json(&bad).expect_err("not a png");
    assert_eq!(e.to_string(), "fields/10/png_base64: not a PNG image");
}

#[test]
fn zpl_goes_to_a_port_9100_printer() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let printer = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        let mut got = Vec::new();
        conn.read_to_end(&mut got).expect("read");
        got
    });
    let z = render(&demo(), &[vars(1), vars(2)], Format::Zpl, PageLayout::Roll).expect("zpl");
    suyuan_labels::print::send_raw(&addr, &z, std::time::Duration::from_secs(5)).expect("print");
    assert_eq!(printer.join().expect("printer"), z);
    let e =
        suyuan_labels::print::send_raw("127.0.0.1:1", b"^XA^XZ", std::time::Duration::from_secs(2))
            .expect_err("nobody listens");
    assert!(e.to_string().starts_with("printer 127.0.0.1:1:"), "{e}");
}
