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
    assert!(svg.contains("婴儿配方奶粉"));
    assert!(svg.contains(r#"width="60mm""#));
    assert_eq!(svg.matches("<path").count(), 2, "QR and DataMatrix");
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
