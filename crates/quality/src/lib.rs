//! Suyuan's quality management, without I/O: GB/T 2828.1 sampling plans ([`sampling`]) and their
//! switching rules ([`switching`]), inspection plans and the judgement of a lot ([`plan`]), the
//! nonconformance report's life ([`ncr`]), holds and what releasing one frees ([`holds`]), supplier
//! figures ([`supplier`]) and control charts ([`spc`]). The engine feeds them from the ledger.

pub mod holds;
pub mod ncr;
pub mod plan;
pub mod sampling;
pub mod spc;
pub mod supplier;
pub mod switching;
