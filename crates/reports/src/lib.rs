//! Reports and dashboards a plant defines without code. A report ([`report`]) reads one source's rows
//! (events, objects, inventory, inspections, NCRs, holds, tasks, form submissions, workflow cases, or a metric),
//! filters, groups and sorts them and keeps the columns it names ([`run`]), and may be delivered on a schedule; a
//! dashboard ([`dashboard`]) is a grid of widgets over named metrics and reports. Pure: the engine gives
//! the rows, the server draws and exports.

pub mod dashboard;
pub mod report;
pub mod run;

pub use dashboard::{Dashboard, Widget};
pub use report::{Report, Table};
