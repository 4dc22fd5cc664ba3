//! EPCIS query parameters (`name=value&…`, repeated values split by `|`) and master data queries.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let params: Vec<(String, String)> = text
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (p.to_string(), String::new()),
        })
        .collect();
    let mut ext = std::collections::HashMap::new();
    ext.insert("ex".to_string(), "https://example.com/ns/".to_string());
    let _ = suyuan_epcis::query::Query::parse(&params, &ext);
    let _ = suyuan_epcis::masterdata::MasterDataQuery::parse(&params);
});
