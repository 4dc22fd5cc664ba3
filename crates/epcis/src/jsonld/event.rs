//! Reading one event: every field of its type checked and located, into the event model.

#[allow(unused_imports)]
use super::*;

/// Parses one event object at `ptr`; errors go to `errs`, and `None` comes back when the event is unusable.
pub(super) fn parse_event(
    v: &Value,
    ptr: &str,
    doc_ctx: &Context,
    errs: &mut Errors,
) -> Option<Event> {
    let Some(obj) = v.as_object() else {
        errs.push(
            ptr,
            format!("expected an event object, got {}", describe(v)),
        );
        return None;
    };
    let before = errs.0.len() + errs.1;
    let mut ctx = doc_ctx.clone();
    if let Some(c) = obj.get("@context") {
        ctx.extend_from(c);
    }
    let t = match obj.get("type") {
        Some(Value::String(s)) => match EventType::parse(s) {
            Some(t) => t,
            None => {
                errs.push(
                    format!("{ptr}/type"),
                    format!(
                        "expected ObjectEvent, AggregationEvent, TransformationEvent, AssociationEvent or \
                         TransactionEvent, got \"{s}\""
                    ),
                );
                return None;
            }
        },
        Some(other) => {
            errs.push(
                format!("{ptr}/type"),
                format!(
                    "expected the event type as a string, got {}",
                    describe(other)
                ),
            );
            return None;
        }
        None => {
            errs.push(
                format!("{ptr}/type"),
                "required: the event type, e.g. \"ObjectEvent\"",
            );
            return None;
        }
    };
    let allowed = allowed_fields(t);
    for k in obj.keys() {
        if ALL_STANDARD_FIELDS.contains(&k.as_str()) && !allowed.contains(&k.as_str()) {
            errs.push(
                format!("{ptr}/{}", esc(k)),
                format!("not a field of {}", t.as_str()),
            );
        }
    }
    let event_time = get_time(obj, "eventTime", ptr, errs);
    if let Some(Err(m)) = event_time
        .as_deref()
        .and_then(|t| parse_timestamp(t).ok())
        .map(|t| suyuan_core::time::check_not_future(&t))
    {
        errs.push(format!("{ptr}/eventTime"), m);
    }
    if !obj.contains_key("eventTime") {
        errs.push(
            format!("{ptr}/eventTime"),
            "required: when the event happened (RFC 3339 date-time)",
        );
    }
    let offset = get_str(obj, "eventTimeZoneOffset", ptr, errs).map(str::to_string);
    match &offset {
        Some(o) => {
            if let Err(m) = validate_offset(o) {
                errs.push(format!("{ptr}/eventTimeZoneOffset"), m);
            }
        }
        None if !obj.contains_key("eventTimeZoneOffset") => errs.push(
            format!("{ptr}/eventTimeZoneOffset"),
            "required: the local offset, e.g. \"+08:00\"",
        ),
        None => {}
    }
    let mut e = Event::new(
        t,
        event_time.clone().unwrap_or_default(),
        offset.clone().unwrap_or_default(),
    );
    e.event_id = get_uri(obj, "eventID", ptr, "the eventID", errs);
    e.record_time = get_time(obj, "recordTime", ptr, errs);
    match obj.get("certificationInfo") {
        None => {}
        Some(Value::String(s)) if is_uri(s) => {
            e.certification_info = Some(Value::String(s.clone()))
        }
        Some(Value::Array(a)) if a.iter().all(|x| x.as_str().is_some_and(is_uri)) => {
            e.certification_info = Some(Value::Array(a.clone()))
        }
        Some(other) => errs.push(
            format!("{ptr}/certificationInfo"),
            format!(
                "expected a URI or an array of URIs, got {}",
                describe(other)
            ),
        ),
    }
    if let Some(d) = obj.get("errorDeclaration") {
        let dp = format!("{ptr}/errorDeclaration");
        match d.as_object() {
            Some(dobj) => {
                let time = get_time(dobj, "declarationTime", &dp, errs);
                if !dobj.contains_key("declarationTime") {
                    errs.push(
                        format!("{dp}/declarationTime"),
                        "required: when the error was declared",
                    );
                }
                let reason = get_vocab(dobj, "reason", &dp, Vocab::ErrorReason, errs);
                let corrective = match dobj.get("correctiveEventIDs") {
                    None => Vec::new(),
                    Some(Value::Array(a)) => a
                        .iter()
                        .enumerate()
                        .filter_map(|(i, x)| match x.as_str() {
                            Some(s) if is_uri(s) => Some(s.to_string()),
                            _ => {
                                errs.push(
                                    format!("{dp}/correctiveEventIDs/{i}"),
                                    format!("expected an eventID URI, got {}", describe(x)),
                                );
                                None
                            }
                        })
                        .collect(),
                    Some(other) => {
                        errs.push(
                            format!("{dp}/correctiveEventIDs"),
                            format!("expected an array, got {}", describe(other)),
                        );
                        Vec::new()
                    }
                };
                let extensions = collect_extensions(
                    dobj,
                    &["declarationTime", "reason", "correctiveEventIDs"],
                    &dp,
                    &ctx,
                    errs,
                );
                if let Some(declaration_time) = time {
                    e.error_declaration = Some(ErrorDeclaration {
                        declaration_time,
                        reason,
                        corrective_event_ids: corrective,
                        extensions,
                    });
                }
            }
            None => errs.push(dp, format!("expected an object, got {}", describe(d))),
        }
    }
    e.epc_list = get_uri_list(obj, "epcList", ptr, errs);
    e.parent_id = get_uri(obj, "parentID", ptr, "the parent", errs);
    e.child_epcs = get_uri_list(obj, "childEPCs", ptr, errs);
    e.input_epc_list = get_uri_list(obj, "inputEPCList", ptr, errs);
    e.output_epc_list = get_uri_list(obj, "outputEPCList", ptr, errs);
    e.quantity_list = get_quantities(obj, "quantityList", ptr, errs);
    e.child_quantity_list = get_quantities(obj, "childQuantityList", ptr, errs);
    e.input_quantity_list = get_quantities(obj, "inputQuantityList", ptr, errs);
    e.output_quantity_list = get_quantities(obj, "outputQuantityList", ptr, errs);
    e.action = match get_str(obj, "action", ptr, errs) {
        Some(a) => match Action::parse(a) {
            Some(a) => Some(a),
            None => {
                errs.push(
                    format!("{ptr}/action"),
                    format!("expected ADD, OBSERVE or DELETE, got \"{a}\""),
                );
                None
            }
        },
        None => None,
    };
    if t != EventType::Transformation && !obj.contains_key("action") {
        errs.push(
            format!("{ptr}/action"),
            format!("required in {}: ADD, OBSERVE or DELETE", t.as_str()),
        );
    }
    e.transformation_id = get_uri(obj, "transformationID", ptr, "the transformation ID", errs);
    e.biz_step = get_vocab(obj, "bizStep", ptr, Vocab::BizStep, errs);
    e.disposition = get_vocab(obj, "disposition", ptr, Vocab::Disposition, errs);
    if let Some(pd) = obj.get("persistentDisposition") {
        let pp = format!("{ptr}/persistentDisposition");
        match pd.as_object() {
            Some(po) => {
                let mut out = PersistentDisposition::default();
                for (k, v) in po {
                    let target = match k.as_str() {
                        "set" => &mut out.set,
                        "unset" => &mut out.unset,
                        _ => {
                            errs.push(
                                format!("{pp}/{}", esc(k)),
                                "unknown field: expected \"set\" or \"unset\"",
                            );
                            continue;
                        }
                    };
                    match v.as_array() {
                        Some(items) => {
                            for (i, item) in items.iter().enumerate() {
                                match item.as_str().map(|s| Vocab::Disposition.normalise(s)) {
                                    Some(Ok(d)) => target.push(d),
                                    Some(Err(m)) => errs.push(format!("{pp}/{k}/{i}"), m),
                                    None => errs.push(
                                        format!("{pp}/{k}/{i}"),
                                        format!(
                                            "expected a disposition string, got {}",
                                            describe(item)
                                        ),
                                    ),
                                }
                            }
                        }
                        None => errs.push(
                            format!("{pp}/{k}"),
                            format!("expected an array of dispositions, got {}", describe(v)),
                        ),
                    }
                }
                e.persistent_disposition = Some(out);
            }
            None => errs.push(
                pp,
                format!(
                    "expected an object with \"set\" and/or \"unset\", got {}",
                    describe(pd)
                ),
            ),
        }
    }
    e.read_point = get_location(obj, "readPoint", ptr, &ctx, errs);
    e.biz_location = get_location(obj, "bizLocation", ptr, &ctx, errs);
    e.biz_transaction_list = get_biz_transactions(obj, ptr, errs);
    e.source_list = get_source_dest(obj, "sourceList", "source", ptr, errs);
    e.destination_list = get_source_dest(obj, "destinationList", "destination", ptr, errs);
    e.sensor_element_list = get_sensors(obj, ptr, &ctx, errs);
    if let Some(ilmd) = obj.get("ilmd") {
        match ilmd.as_object() {
            Some(m) => {
                e.ilmd = Some(collect_extensions(
                    m,
                    &[],
                    &format!("{ptr}/ilmd"),
                    &ctx,
                    errs,
                ))
            }
            None => errs.push(
                format!("{ptr}/ilmd"),
                format!(
                    "expected an object of master data fields, got {}",
                    describe(ilmd)
                ),
            ),
        }
    }
    let mut known: Vec<&str> = COMMON.to_vec();
    known.extend_from_slice(ALL_STANDARD_FIELDS);
    e.extensions = collect_extensions(obj, &known, ptr, &ctx, errs);

    // Per-type requirements of the EPCIS 2.0 schema.
    match t {
        // The schema's anyOf: epcList, a non-empty quantityList, or sensor data at a read point.
        EventType::Object
            if !obj.contains_key("epcList")
                && e.quantity_list.is_empty()
                && !(obj
                    .get("sensorElementList")
                    .and_then(Value::as_array)
                    .is_some_and(|l| !l.is_empty())
                    && obj.contains_key("readPoint")) =>
        {
            errs.push(
                format!("{ptr}/epcList"),
                "required: an ObjectEvent names its objects in epcList or quantityList, or reports sensor data \
                 (sensorElementList) at a readPoint",
            )
        }
        EventType::Aggregation | EventType::Association => {
            if e.parent_id.is_none() && (t == EventType::Association || e.action != Some(Action::Observe)) {
                errs.push(format!("{ptr}/parentID"), format!("required in {} with action ADD or DELETE", t.as_str()));
            }
            if e.child_epcs.is_empty() && e.child_quantity_list.is_empty() && e.action == Some(Action::Add) {
                errs.push(format!("{ptr}/childEPCs"), "required: at least one child in childEPCs or childQuantityList");
            }
        }
        EventType::Transaction if e.biz_transaction_list.is_empty() && !obj.contains_key("bizTransactionList") => {
            errs.push(format!("{ptr}/bizTransactionList"), "required in TransactionEvent: at least one business transaction")
        }
        EventType::Transformation
            if e.input_epc_list.is_empty()
                && e.input_quantity_list.is_empty()
                && e.output_epc_list.is_empty()
                && e.output_quantity_list.is_empty() =>
        {
            errs.push(
                format!("{ptr}/inputEPCList"),
                "required: a TransformationEvent has at least one input or output (EPCs or quantities)",
            )
        }
        _ => {}
    }
    e.namespaces = used_namespaces(&e, &ctx);
    if errs.0.len() + errs.1 > before {
        None
    } else {
        Some(e)
    }
}
