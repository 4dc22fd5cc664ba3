//! Label templates, previews, print jobs and the labels page.

#[allow(unused_imports)]
use super::*;

async fn setup_labels(t: &TestApp) {
    let rule = json!({"name": "can", "definition": {"template": "C{YY}{SEQ:6}{CHECK:mod37-36}",
        "target": "sgtin", "gtin": "6901234567892"}});
    assert_eq!(
        t.post_json("/api/v1/coding-rules", &rule).await.status,
        StatusCode::CREATED
    );
    let tpl = json!({"name": "can", "definition": suyuan_labels::demo_template()});
    let saved = t.post_json("/api/v1/label-templates", &tpl).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
}

fn grey(png: &[u8]) -> (Vec<u8>, u32, u32) {
    let pm = tiny_skia::Pixmap::decode_png(png).expect("png");
    let luma = pm.data().chunks(4).map(|p| p[1]).collect();
    (luma, pm.width(), pm.height())
}

#[tokio::test]
async fn label_templates_preview_and_print_jobs() {
    let t = test_app().await;
    setup_labels(&t).await;
    // A bad template is refused with the field named, and nothing is stored.
    let mut bad = suyuan_labels::demo_template();
    bad["fields"][8]["size"] = json!(80);
    let r = t
        .post_json(
            "/api/v1/label-templates",
            &json!({"name": "bad", "definition": bad}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["errors"][0]["pointer"],
        "/definition/fields/8/size",
        "{}",
        r.body
    );
    assert_eq!(
        t.get("/api/v1/label-templates").await.json()["templates"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // The preview is a PNG whose QR Code carries the sample Digital Link (overridable per variable).
    let p = t
        .get("/api/v1/label-templates/can/preview?format=png&var.dl=https%3A%2F%2Fid.gs1.org%2F01%2F06901234567892%2F21%2FX1")
        .await;
    assert_eq!(
        (p.status, p.content_type.as_str()),
        (StatusCode::OK, "image/png")
    );
    let resp = t
        .router
        .clone()
        .oneshot(
            Request::get("/api/v1/label-templates/can/preview?format=png&var.dl=https%3A%2F%2Fid.gs1.org%2F01%2F06901234567892%2F21%2FX1")
                .header(header::AUTHORIZATION, format!("Bearer {}", t.token))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    let png = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    let (luma, w, h) = grey(&png);
    let qr = suyuan_labels::symbol::decode(luma, w, h, suyuan_labels::Symbology::Qr).expect("qr");
    assert_eq!(qr, "]Q1https://id.gs1.org/01/06901234567892/21/X1");
    let svg = t
        .get("/api/v1/label-templates/can/preview?format=svg")
        .await;
    assert!(svg.body.contains("婴儿配方奶粉"));
    // With the rule and the job's values, the preview is what the print will be: the rule's GTIN and next
    // code, the job's lot in the link; nothing is issued for it.
    let resp = t
        .router
        .clone()
        .oneshot(
            Request::get("/api/v1/label-templates/can/preview?format=png&rule=can&var.lot=L7&var.product_name=x&var.product_name_en=x")
                .header(header::AUTHORIZATION, format!("Bearer {}", t.token))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK);
    let png = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    let (luma, w, h) = grey(&png);
    let qr = suyuan_labels::symbol::decode(luma, w, h, suyuan_labels::Symbology::Qr).expect("qr");
    let yy = chrono::Utc::now().format("%y").to_string();
    assert!(
        qr.starts_with(&format!(
            "]Q1https://id.gs1.org/01/06901234567892/10/L7/21/C{yy}000001"
        )),
        "{qr}"
    );
    let unknown = t
        .get("/api/v1/label-templates/can/preview?format=png&rule=nope")
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown.body.contains("\"parameter\":\"rule\""),
        "{}",
        unknown.body
    );
    let bc = t
        .get("/api/v1/barcodes?symbology=ean13&content=690123456789&format=svg")
        .await;
    assert_eq!(
        (bc.status, bc.content_type.as_str()),
        (StatusCode::OK, "image/svg+xml")
    );
    let bad_bc = t
        .get("/api/v1/barcodes?symbology=ean13&content=6901234567891")
        .await;
    assert_eq!(bad_bc.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_bc.body.contains("check digit should be 2"),
        "{}",
        bad_bc.body
    );
    // A job that cannot print is refused before any code is issued.
    let refused = t
        .post_json(
            "/api/v1/label-jobs",
            &json!({"template": "can", "rule": "can", "count": 5, "format": "pdf"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    // Each value the template needs and the job does not give is located: /vars/{name}.
    let pointers: Vec<String> = refused.json()["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["pointer"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        pointers,
        ["/vars/product_name", "/vars/product_name_en", "/vars/lot"],
        "{}",
        refused.body
    );
    assert_eq!(
        t.get("/api/v1/coding-rules").await.json()["rules"][0]["issued"],
        0
    );
    // A real job runs in the background, reports progress and offers its file.
    let vars =
        json!({"product_name": "婴儿配方奶粉", "product_name_en": "Infant formula", "lot": "L7"});
    let started = t
        .post_json(
            "/api/v1/label-jobs",
            &json!({"template": "can", "rule": "can", "count": 2500,
            "format": "pdf", "layout": "a4", "vars": vars}),
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    let location = started.headers["location"]
        .to_str()
        .expect("location")
        .to_string();
    let mut state = json!(null);
    for _ in 0..600 {
        state = t.get(&location).await.json();
        if state["status"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(state["status"], "done", "{state}");
    assert_eq!(
        (state["done"].clone(), state["total"].clone()),
        (json!(2500), json!(2500))
    );
    let file = t.get(state["output"].as_str().expect("output")).await;
    assert_eq!(file.content_type, "application/pdf");
    assert!(file.body.starts_with("%PDF-"));
    assert_eq!(
        t.get("/api/v1/coding-rules").await.json()["rules"][0]["issued"],
        2500
    );
    let check = t
        .get(&format!(
            "/api/v1/codes/check?value={}",
            state["firstCode"].as_str().expect("code")
        ))
        .await;
    assert_eq!(check.json()["status"], "valid");
    // The commissioning event records the label's lot (as ILMD) and its variables.
    let uri = check.json()["uri"].as_str().expect("uri").to_string();
    let obj = t
        .get(&format!("/api/v1/objects/{}", percent_encode(&uri)))
        .await;
    assert_eq!(obj.status, StatusCode::OK, "{}", obj.body);
    let history = obj.body.clone();
    assert!(
        history.contains("\"cbvmda:lotNumber\":\"L7\"")
            && history.contains("\"sy:template\":\"can\""),
        "{history}"
    );
    assert!(
        history.contains("\"sy:product_name\":\"婴儿配方奶粉\""),
        "{history}"
    );
    // So the serial belongs to lot L7 in every trace.
    let lot = percent_encode("https://id.gs1.org/01/06901234567892/10/L7");
    let fwd = t.get(&format!("/api/v1/trace/forward?id={lot}")).await;
    assert!(fwd.body.contains(&uri), "{}", fwd.body);
    // Scanning the label's QR (with the lot in its link) or its GS1 DataMatrix (an element string) finds the
    // issued serial too.
    let code = state["firstCode"].as_str().expect("code");
    for printed in [
        format!("https://id.gs1.org/01/06901234567892/10/L7/21/{code}"),
        format!("(01)06901234567892(10)L7(21){code}"),
    ] {
        let check = t
            .get(&format!(
                "/api/v1/codes/check?value={}",
                percent_encode(&printed)
            ))
            .await;
        assert_eq!(check.json()["status"], "valid", "{printed}: {}", check.body);
    }
    // ZPL straight to a port-9100 printer.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let printer = std::thread::spawn(move || {
        use std::io::Read;
        let (mut c, _) = listener.accept().expect("accept");
        let mut got = String::new();
        c.read_to_string(&mut got).expect("read");
        got
    });
    let job = t
        .post_json(
            "/api/v1/label-jobs",
            &json!({"template": "can", "rule": "can", "count": 3,
            "format": "zpl", "printer": addr, "vars": vars}),
        )
        .await;
    assert_eq!(job.status, StatusCode::ACCEPTED, "{}", job.body);
    let location = job.headers["location"]
        .to_str()
        .expect("location")
        .to_string();
    for _ in 0..600 {
        state = t.get(&location).await.json();
        if state["status"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(state["status"], "done", "{state}");
    assert_eq!(state["printer"], json!(addr));
    let got = printer.join().expect("printer");
    assert_eq!(got.matches("^XA").count(), 3);
    assert!(
        got.contains("^FDMA,https://id.gs1.org/01/06901234567892/10/L7/21/C"),
        "{}",
        &got[..300]
    );
}

#[tokio::test]
async fn the_labels_page_lists_rules_and_templates_and_prints_a_batch() {
    let t = test_app().await;
    setup_labels(&t).await;
    let page = t.get("/labels?lang=en").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Coding rules") && page.body.contains("C{YY}{SEQ:6}{CHECK:mod37-36}")
    );
    assert!(
        page.body
            .contains(r#"src="/api/v1/label-templates/can/preview?format=png&#38;version=1""#),
        "{}",
        page.body
    );
    // Each rule says what happens to codes it never issued.
    assert!(
        page.body.contains("Codes never issued") && page.body.contains("<td>accepted</td>"),
        "{}",
        page.body
    );
    // The print form's preview shows the job's first label (rule, context and values), or what is missing.
    let frag = t
        .get("/labels/preview?lang=en&template=can&rule=can&vars=lot%3DL8")
        .await;
    assert!(
        frag.body.contains("rule=can") && frag.body.contains("var.lot=L8"),
        "{}",
        frag.body
    );
    assert!(
        frag.body
            .contains("The first label as this form will print it")
    );
    let frag = t.get("/labels/preview?lang=en&template=can").await;
    assert!(
        frag.body.contains("rule: choose a coding rule"),
        "{}",
        frag.body
    );
    let csp = page.headers["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(
        csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors 'none'")
            && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(page.headers["x-content-type-options"], "nosniff");
    let zh = t.get("/labels").await;
    assert!(zh.body.contains("编码规则") && zh.body.contains("发码并打印"));
    let form = |body: &str| {
        Request::post("/labels/jobs?lang=en")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_string()))
            .expect("request")
    };
    let bad = t
        .send(form("template=can&rule=can&count=x&format=pdf"))
        .await;
    assert!(
        bad.body.contains("Count: the number of labels"),
        "{}",
        bad.body
    );
    let missing = t
        .send(form("template=can&rule=can&count=3&format=pdf"))
        .await;
    assert!(
        missing
            .body
            .contains("This template needs these label variables")
            && missing.body.contains("product_name=…"),
        "{}",
        missing.body
    );
    let ok = t
        .send(form("template=can&rule=can&count=30&format=pdf&layout=a4&vars=product_name%3D%E5%A5%B6%E7%B2%89%0Aproduct_name_en%3DMilk%0Alot%3DL1"))
        .await;
    assert!(ok.body.contains("<progress"), "{}", ok.body);
    let mut frag = ok.body.clone();
    for _ in 0..200 {
        if !frag.contains("hx-trigger") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        frag = t.get("/labels/jobs/1?lang=en").await.body;
    }
    assert!(
        frag.contains("Done:") && frag.contains(r#"href="/api/v1/label-jobs/1/output""#),
        "{frag}"
    );
    assert_eq!(
        t.get("/api/v1/label-jobs/1/output").await.content_type,
        "application/pdf"
    );
}
