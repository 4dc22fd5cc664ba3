//! What a warehouse action asks for (`Action`, with a stock count's `Counted` lines) and what it did (`Done`).

use serde::{Deserialize, Serialize};

/// One counted line of a stock count.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Counted {
    /// Lot, unit or container code.
    pub code: String,
    /// Quantity counted (for a lot; units count one each).
    #[serde(default)]
    pub quantity: Option<f64>,
}

/// A warehouse action.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Goods received from a supplier against a purchase order.
    Receive {
        /// Purchase order number.
        po: String,
        /// Supplier code.
        supplier: String,
        /// Product code or GTIN.
        product: String,
        /// The supplier's lot.
        lot: String,
        /// Quantity.
        quantity: f64,
        /// Expiry (`YYYY-MM-DD`).
        #[serde(default)]
        expiry: Option<String>,
        /// Receiving location code.
        location: String,
        /// The certificate of analysis (a document reference or URL).
        #[serde(default)]
        certificate: Option<String>,
    },
    /// Putaway or a move to another location.
    Move {
        /// Lot, unit or container code.
        code: String,
        /// Quantity, for a lot.
        #[serde(default)]
        quantity: Option<f64>,
        /// Destination location code.
        to: String,
    },
    /// Picking for a sales order.
    Pick {
        /// Sales order number.
        order: String,
        /// Lot, unit or container code.
        code: String,
        /// Quantity, for a lot.
        #[serde(default)]
        quantity: Option<f64>,
        /// Where it is picked (location code).
        location: String,
    },
    /// Units into a case, or cases onto a pallet.
    Pack {
        /// The case or pallet (SSCC); a new SSCC is issued when absent.
        #[serde(default)]
        parent: Option<String>,
        /// What goes in.
        children: Vec<String>,
        /// Packing location code.
        location: String,
        /// The coding rule (target `sscc`) that issues the SSCC when none is given; else the plant's
        /// company prefix and a sequence.
        #[serde(default)]
        rule: Option<String>,
    },
    /// Everything out of a case or pallet.
    Unpack {
        /// The case or pallet.
        parent: String,
        /// Location code.
        location: String,
    },
    /// Shipping to a customer, with the despatch advice.
    Ship {
        /// Customer code.
        customer: String,
        /// SSCCs or units shipped.
        codes: Vec<String>,
        /// Shipping location code.
        from: String,
    },
    /// Receipt at a distributor or store.
    Receipt {
        /// SSCCs or units received.
        codes: Vec<String>,
        /// Receiving location code (a customer's or one of ours).
        location: String,
    },
    /// Goods returned by a customer.
    Return {
        /// Units or containers returned.
        codes: Vec<String>,
        /// Where they arrive (location code).
        location: String,
        /// Why.
        #[serde(default)]
        reason: Option<String>,
    },
    /// Scrap: units or a quantity of a lot destroyed, booked on a work order when one is named.
    Scrap {
        /// Lot, unit or container code.
        code: String,
        /// Quantity, for a lot.
        #[serde(default)]
        quantity: Option<f64>,
        /// The work order it is booked on.
        #[serde(default)]
        work_order: Option<String>,
        /// Where (location code).
        location: String,
        /// Why.
        #[serde(default)]
        reason: Option<String>,
    },
    /// Rework: units or a quantity of a lot sent back through an operation, booked on a work order.
    Rework {
        /// Lot, unit or container code.
        code: String,
        /// Quantity, for a lot.
        #[serde(default)]
        quantity: Option<f64>,
        /// The work order it is booked on.
        #[serde(default)]
        work_order: Option<String>,
        /// Where (location code).
        location: String,
        /// Why.
        #[serde(default)]
        reason: Option<String>,
    },
    /// A stock count at a location.
    Count {
        /// Location code.
        location: String,
        /// What was counted.
        counted: Vec<Counted>,
    },
    /// An RFID reader's batch of tag reads (EPC hex or URNs) at a location.
    Rfid {
        /// Reader location code.
        location: String,
        /// Tag reads (repeats are read once).
        tags: Vec<String>,
        /// `observe` (default), `receive`, `count`, or `ship_check` (the reads against a despatch advice).
        #[serde(default)]
        purpose: Option<String>,
        /// The despatch advice number a `ship_check` compares the reads with.
        #[serde(default)]
        despatch: Option<String>,
    },
}

/// What an action did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Done {
    /// The events it stored.
    pub events: Vec<String>,
    /// The SSCC issued, for a pack without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The despatch advice number, for a shipment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub despatch: Option<String>,
    /// Differences of a count: `(code, expected, counted)`.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub differences: Vec<(String, f64, f64)>,
    /// Distinct identifiers read, for RFID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read: Option<usize>,
}
