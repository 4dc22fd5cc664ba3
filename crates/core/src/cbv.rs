//! GS1 Core Business Vocabulary (CBV 2.0): the standard values of business steps, dispositions,
//! transaction and source/destination types, error reasons and sensor vocabularies, and their three
//! spellings (bare, CURIE, web URI, plus the EPCIS 1.x URN form).

/// One CBV vocabulary: its standard values and how they are written as URIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocab {
    /// Business steps (`bizStep`).
    BizStep,
    /// Dispositions (`disposition`, `persistentDisposition`).
    Disposition,
    /// Business transaction types (`bizTransaction.type`).
    BizTransactionType,
    /// Source and destination types.
    SourceDestType,
    /// Error declaration reasons.
    ErrorReason,
    /// Sensor measurement types (`sensorReport.type`).
    MeasurementType,
    /// Sensor alert types (`sensorReport.exception`).
    SensorAlert,
    /// Sensor value components (`sensorReport.component`).
    Component,
}

const BIZ_STEPS: &[&str] = &[
    "accepting",
    "arriving",
    "assembling",
    "collecting",
    "commissioning",
    "consigning",
    "creating_class_instance",
    "cycle_counting",
    "decommissioning",
    "departing",
    "destroying",
    "disassembling",
    "dispensing",
    "encoding",
    "entering_exiting",
    "holding",
    "inspecting",
    "installing",
    "killing",
    "loading",
    "other",
    "packing",
    "picking",
    "receiving",
    "removing",
    "repackaging",
    "repairing",
    "replacing",
    "reserving",
    "retail_selling",
    "shipping",
    "staging_outbound",
    "stock_taking",
    "stocking",
    "storing",
    "transporting",
    "unloading",
    "unpacking",
    "void_shipping",
    "sensor_reporting",
    "sampling",
];

const DISPOSITIONS: &[&str] = &[
    "active",
    "container_closed",
    "damaged",
    "destroyed",
    "dispensed",
    "disposed",
    "encoded",
    "expired",
    "in_progress",
    "in_transit",
    "inactive",
    "no_pedigree_match",
    "non_sellable_other",
    "partially_dispensed",
    "recalled",
    "reserved",
    "retail_sold",
    "returned",
    "sellable_accessible",
    "sellable_not_accessible",
    "stolen",
    "unknown",
    "available",
    "completeness_verified",
    "completeness_inferred",
    "conformant",
    "container_open",
    "mismatch_instance",
    "mismatch_class",
    "mismatch_quantity",
    "needs_replacement",
    "non_conformant",
    "unavailable",
];

const BTT: &[&str] = &[
    "bol",
    "cert",
    "desadv",
    "inv",
    "pedigree",
    "po",
    "poc",
    "prodorder",
    "recadv",
    "rma",
    "testprd",
    "testres",
    "upevt",
];

const SDT: &[&str] = &["owning_party", "possessing_party", "location"];

const ER: &[&str] = &["did_not_occur", "incorrect_data"];

const MEASUREMENT_TYPES: &[&str] = &[
    "AbsoluteHumidity",
    "AbsorbedDose",
    "AbsorbedDoseRate",
    "Acceleration",
    "Radioactivity",
    "Altitude",
    "AmountOfSubstance",
    "AmountOfSubstancePerUnitVolume",
    "Angle",
    "AngularAcceleration",
    "AngularMomentum",
    "AngularVelocity",
    "Area",
    "Capacitance",
    "Conductance",
    "Conductivity",
    "Count",
    "Density",
    "Dimensionless",
    "DoseEquivalent",
    "DoseEquivalentRate",
    "DynamicViscosity",
    "ElectricCharge",
    "ElectricCurrent",
    "ElectricCurrentDensity",
    "ElectricFieldStrength",
    "Energy",
    "Exposure",
    "Force",
    "Frequency",
    "Illuminance",
    "Inductance",
    "Irradiance",
    "KinematicViscosity",
    "Length",
    "LinearMomentum",
    "Luminance",
    "LuminousFlux",
    "LuminousIntensity",
    "MagneticFlux",
    "MagneticFluxDensity",
    "MagneticVectorPotential",
    "Mass",
    "MassConcentration",
    "MassFlowRate",
    "MassPerAreaTime",
    "MemoryCapacity",
    "MolalityOfSolute",
    "MolarEnergy",
    "MolarMass",
    "MolarVolume",
    "Power",
    "Pressure",
    "RadiantFlux",
    "RadiantIntensity",
    "RelativeHumidity",
    "Resistance",
    "Resistivity",
    "SolidAngle",
    "SpecificVolume",
    "Speed",
    "SurfaceDensity",
    "SurfaceTension",
    "Temperature",
    "Time",
    "Torque",
    "Voltage",
    "Volume",
    "VolumeFlowRate",
    "VolumeFraction",
    "VolumetricFlux",
    "Wavenumber",
];

const ALERTS: &[&str] = &["ALARM_CONDITION", "ERROR_CONDITION"];

const COMPONENTS: &[&str] = &[
    "x",
    "y",
    "z",
    "axial_distance",
    "azimuth",
    "height",
    "spherical_radius",
    "polar_angle",
    "elevation_angle",
    "easting",
    "northing",
    "latitude",
    "longitude",
    "altitude",
];

/// The CBV web-URI base.
pub const CBV_BASE: &str = "https://ref.gs1.org/cbv/";
/// The GS1 web vocabulary base used for sensor vocabularies.
pub const GS1_VOC_BASE: &str = "https://gs1.org/voc/";

impl Vocab {
    /// The standard values in bare form.
    pub fn values(self) -> &'static [&'static str] {
        match self {
            Vocab::BizStep => BIZ_STEPS,
            Vocab::Disposition => DISPOSITIONS,
            Vocab::BizTransactionType => BTT,
            Vocab::SourceDestType => SDT,
            Vocab::ErrorReason => ER,
            Vocab::MeasurementType => MEASUREMENT_TYPES,
            Vocab::SensorAlert => ALERTS,
            Vocab::Component => COMPONENTS,
        }
    }

    /// What the API calls this vocabulary in error messages.
    pub fn label(self) -> &'static str {
        match self {
            Vocab::BizStep => "CBV business step",
            Vocab::Disposition => "CBV disposition",
            Vocab::BizTransactionType => "CBV business transaction type",
            Vocab::SourceDestType => "CBV source/destination type",
            Vocab::ErrorReason => "CBV error reason",
            Vocab::MeasurementType => "GS1 measurement type",
            Vocab::SensorAlert => "GS1 sensor alert type",
            Vocab::Component => "CBV component",
        }
    }

    /// The full web-URI prefix of a value (`https://ref.gs1.org/cbv/BizStep-`).
    pub fn web_prefix(self) -> &'static str {
        match self {
            Vocab::BizStep => "https://ref.gs1.org/cbv/BizStep-",
            Vocab::Disposition => "https://ref.gs1.org/cbv/Disp-",
            Vocab::BizTransactionType => "https://ref.gs1.org/cbv/BTT-",
            Vocab::SourceDestType => "https://ref.gs1.org/cbv/SDT-",
            Vocab::ErrorReason => "https://ref.gs1.org/cbv/ER-",
            Vocab::Component => "https://ref.gs1.org/cbv/Comp-",
            Vocab::MeasurementType | Vocab::SensorAlert => GS1_VOC_BASE,
        }
    }

    /// The bare value of a term written in one of this vocabulary's URI or CURIE forms
    /// (`https://ref.gs1.org/cbv/BizStep-shipping` → `shipping`); anything else unchanged.
    pub fn bare(self, value: &str) -> &str {
        std::iter::once(self.web_prefix())
            .chain(self.alias_prefixes().iter().copied())
            .find_map(|p| value.strip_prefix(p))
            .unwrap_or(value)
    }

    /// Other spellings that name the same standard value, longest first.
    fn alias_prefixes(self) -> &'static [&'static str] {
        match self {
            Vocab::BizStep => &[
                "urn:epcglobal:cbv:bizstep:",
                "cbv:BizStep-",
                "https://ns.gs1.org/cbv/BizStep-",
            ],
            Vocab::Disposition => &[
                "urn:epcglobal:cbv:disp:",
                "cbv:Disp-",
                "https://ns.gs1.org/cbv/Disp-",
            ],
            Vocab::BizTransactionType => &[
                "urn:epcglobal:cbv:btt:",
                "cbv:BTT-",
                "https://ns.gs1.org/cbv/BTT-",
            ],
            Vocab::SourceDestType => &[
                "urn:epcglobal:cbv:sdt:",
                "cbv:SDT-",
                "https://ns.gs1.org/cbv/SDT-",
            ],
            Vocab::ErrorReason => &[
                "urn:epcglobal:cbv:er:",
                "cbv:ER-",
                "https://ns.gs1.org/cbv/ER-",
            ],
            Vocab::Component => &["cbv:Comp-"],
            Vocab::MeasurementType | Vocab::SensorAlert => &["gs1:", "https://ref.gs1.org/voc/"],
        }
    }

    /// Normalises a value to the storage form: the bare name for a standard value, the URI unchanged for a
    /// user-defined one. Errors with the expectation when `value` is neither.
    pub fn normalise(self, value: &str) -> Result<String, String> {
        let v = value.trim();
        let bare = std::iter::once(self.web_prefix())
            .chain(self.alias_prefixes().iter().copied())
            .find_map(|p| v.strip_prefix(p))
            .unwrap_or(v);
        if self.values().contains(&bare) {
            return Ok(bare.to_string());
        }
        // GS1 adds measurement types with each release (and CBV 2.0 drafts named them `MT-…`): a term in
        // GS1's own namespace is accepted as one (GS1's schema accepts any URI); `is_known` tells it apart.
        if bare != v && self == Vocab::MeasurementType && is_term(bare) {
            return Ok(bare.to_string());
        }
        if bare != v {
            return Err(format!(
                "expected a {} (e.g. {}), got \"{value}\"",
                self.label(),
                self.values()[0]
            ));
        }
        if is_uri(v) {
            return Ok(v.to_string());
        }
        Err(format!(
            "expected a {} such as \"{}\" or a URI of your own vocabulary, got \"{value}\"",
            self.label(),
            self.values()[0]
        ))
    }

    /// Whether a stored value is a term this release of the vocabulary lists (a URI of one's own vocabulary
    /// is not a term of it; an unlisted GS1 measurement type is accepted but unknown).
    pub fn is_known(self, stored: &str) -> bool {
        self.values().contains(&stored) || is_uri(stored)
    }

    /// A stored value as EPCIS XML writes it: a standard value as its CBV URN (`urn:epcglobal:cbv:bizstep:…`),
    /// or for sensor vocabularies as `gs1:` CURIE; URIs unchanged.
    pub fn xml_form(self, value: &str) -> String {
        if self == Vocab::MeasurementType && !is_uri(value) {
            return format!("gs1:{value}");
        }
        if !self.values().contains(&value) {
            return value.to_string();
        }
        match (self, self.alias_prefixes().first()) {
            (Vocab::Component, _) => self.expand(value),
            (_, Some(p)) if p.starts_with("urn:") => format!("{p}{value}"),
            _ => format!("gs1:{value}"),
        }
    }

    /// The full web URI of a stored value (bare standard values expanded, URIs unchanged).
    pub fn expand(self, value: &str) -> String {
        if self.values().contains(&value) || (self == Vocab::MeasurementType && !is_uri(value)) {
            format!("{}{value}", self.web_prefix())
        } else {
            value.to_string()
        }
    }
}

/// A vocabulary term's local name: letters, digits, `_` and `-`, starting with a letter.
fn is_term(s: &str) -> bool {
    s.bytes().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// The bare value of a business step, disposition or source/destination type in any of its standard
/// spellings (events are stored bare; this reads what other systems send or export); anything else unchanged.
pub fn bare_term(value: &str) -> &str {
    [Vocab::BizStep, Vocab::Disposition, Vocab::SourceDestType]
        .iter()
        .map(|v| v.bare(value))
        .find(|b| b.len() != value.len())
        .unwrap_or(value)
}

/// Whether `s` looks like an absolute URI (`scheme:rest`, scheme per RFC 3986).
pub fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    !rest.is_empty()
        && scheme
            .bytes()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
        && !has_whitespace(s)
}

/// Whether `s` holds any Unicode white space (bytes first: identifiers are almost always ASCII).
fn has_whitespace(s: &str) -> bool {
    if s.is_ascii() {
        s.bytes().any(|b| b.is_ascii_whitespace() || b == 0x0B)
    } else {
        s.chars().any(char::is_whitespace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_spellings_normalise_to_bare() {
        for v in [
            "shipping",
            "cbv:BizStep-shipping",
            "https://ref.gs1.org/cbv/BizStep-shipping",
            "urn:epcglobal:cbv:bizstep:shipping",
        ] {
            assert_eq!(Vocab::BizStep.normalise(v).as_deref(), Ok("shipping"));
        }
        assert_eq!(
            Vocab::BizStep.expand("shipping"),
            "https://ref.gs1.org/cbv/BizStep-shipping"
        );
        assert_eq!(
            Vocab::BizStep.normalise("urn:acme:step:mixing").as_deref(),
            Ok("urn:acme:step:mixing")
        );
        assert!(Vocab::BizStep.normalise("shiping").is_err());
        assert!(Vocab::BizStep.normalise("cbv:BizStep-shiping").is_err());
        assert_eq!(
            Vocab::MeasurementType
                .normalise("gs1:Temperature")
                .as_deref(),
            Ok("Temperature")
        );
    }
}
