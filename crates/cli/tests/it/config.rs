//! `suyuan config export|import`: a plant's definitions as YAML move to an empty store and come back the
//! same; a broken file is refused with its file and line, and nothing is imported while a problem remains.

#[allow(unused_imports)]
use super::*;

fn run(args: &[&str], paths: &[&Path]) -> std::process::Output {
    let mut c = bin();
    c.args(args);
    for p in paths {
        c.arg(p);
    }
    c.output().expect("suyuan")
}

fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for kind in std::fs::read_dir(dir).expect("dir") {
        let kind = kind.expect("entry").path();
        for f in std::fs::read_dir(&kind).expect("kind") {
            let f = f.expect("file").path();
            out.push((
                f.strip_prefix(dir).expect("inside").display().to_string(),
                std::fs::read_to_string(&f).expect("read"),
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn configuration_moves_between_stores_as_yaml() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let (x, y) = (dir.path().join("x"), dir.path().join("y"));
    let demo = run(&["demo", "--days", "2", "--no-serve", "--data"], &[&a]);
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let out = run(&["config", "export"], &[&x, Path::new("--data"), &a]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported = files(&x);
    let names: Vec<&str> = exported.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"quality.plan/FQC-CAN.yaml"), "{names:?}");
    assert!(names.contains(&"coding_rule/demo-can.yaml"), "{names:?}");
    assert!(names.contains(&"form/milk-receipt.yaml"), "{names:?}");
    assert!(names.contains(&"report/iqc-by-supplier.yaml"), "{names:?}");
    assert!(names.contains(&"dashboard/quality.yaml"), "{names:?}");
    // Diff-friendly: keys in order, one per line, nothing empty.
    let plan = &exported
        .iter()
        .find(|(n, _)| n == "quality.plan/FQC-CAN.yaml")
        .expect("plan")
        .1;
    assert!(
        plan.starts_with("# Suyuan quality.plan 'FQC-CAN', version 1\naql:"),
        "{plan}"
    );
    assert!(!plan.contains("null"), "{plan}");

    // Into an empty store, checked first, then saved; exported again, the same files.
    let dry = run(
        &["config", "import", "--dry-run"],
        &[&x, Path::new("--data"), &b],
    );
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let out = run(&["config", "import"], &[&x, Path::new("--data"), &b]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["config", "export"], &[&y, Path::new("--data"), &b]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(files(&y), exported);
    // Imported again unchanged: no new versions.
    let out = run(&["config", "import"], &[&x, Path::new("--data"), &b]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 new version(s)"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // A broken file is refused with its file and line; a rule's wrong fields are named; nothing is saved.
    let plan_file = y.join("quality.plan").join("FQC-CAN.yaml");
    std::fs::write(
        &plan_file,
        "code: FQC-CAN\nname: x\nstage: fqc\n  subject: [\n",
    )
    .expect("write");
    std::fs::create_dir_all(y.join("event_rule")).expect("dir");
    std::fs::write(
        y.join("event_rule").join("hold-all.yaml"),
        "code: hold-all\nname: Hold everything\nif: event.bizStep ==\nthen:\n- do: hold\n  reason: ''\n",
    )
    .expect("write");
    std::fs::write(
        y.join("form").join("clearance.yaml"),
        "code: clearance\nname:\n  zh: 清场\nfields:\n- key: Batch No\n  label:\n    zh: 批次\n  type: scan\n  role: object\nevent:\n  type: ObjectEvent\n  biz_step: inspecting\n",
    )
    .expect("write");
    let out = run(&["config", "import"], &[&y, Path::new("--data"), &b]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("FQC-CAN.yaml:4:"), "{err}");
    assert!(err.contains("hold-all.yaml:3: if:"), "{err}");
    assert!(err.contains("hold-all.yaml:6: then/0/reason"), "{err}");
    assert!(err.contains("clearance.yaml:5: fields/0/key"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    let out = run(
        &["config", "export"],
        &[&dir.path().join("z"), Path::new("--data"), &b],
    );
    assert!(out.status.success());
    assert_eq!(
        files(&dir.path().join("z")),
        exported,
        "the refused import changed nothing"
    );
}
